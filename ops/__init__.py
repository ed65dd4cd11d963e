"""Operator runbooks for AWS (`python -m ops --help`): regional failover and failback, database failover,
FIS drills, DLQ redrive, cache flush and status. Resource names follow the stacks (ops/names.py), every
command prints one JSON report, and a failed step says what was done and what to do next."""
