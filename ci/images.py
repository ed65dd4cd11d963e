"""Print `<workload> <package>` per line for every workload image the pipeline builds (images.yml).

One image per workload of stacks/workloads.py, built from charts/images/Dockerfile with PACKAGE set to the
directory under apps/ (web services have their own package; every worker lives in apps/workers)."""

from __future__ import annotations

import sys

from stacks.workloads import WORKLOADS, Workload


def package(workload: Workload) -> str:
    return workload.name if workload.kind == "web" else "workers"


def main() -> int:
    for workload in WORKLOADS:
        print(f"{workload.name} {package(workload)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
