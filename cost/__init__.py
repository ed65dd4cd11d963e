"""Offline cost estimator: prices what `make synth` wrote (cdktf.out HCL) with committed, dated price tables
and usage profiles, so the cost report moves in step with the stacks without an AWS account or network."""
