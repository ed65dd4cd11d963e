"""`python lock_requirements.py Pipfile.lock > requirements.txt`: the runtime (`default`) packages of the lock
file as a pip requirements file with every hash, so the image build installs exactly what the lock pins
(`pip install --require-hashes`) without installing pipenv into the image. Standard library only.

Exit status 2 with a message when the lock file is unreadable or a package lacks a pinned version or hashes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


class LockError(ValueError):
    pass


def requirements(lock: dict[str, Any]) -> list[str]:
    packages = lock.get("default")
    if not isinstance(packages, dict) or not packages:
        raise LockError("the lock file has no `default` packages")
    lines = []
    for name, spec in sorted(packages.items()):
        version, hashes = spec.get("version", ""), spec.get("hashes") or []
        if not version.startswith("==") or not hashes:
            raise LockError(f"{name}: needs a pinned version and hashes (only VCS/path packages lack them)")
        marker = f"; {spec['markers']}" if spec.get("markers") else ""
        lines.append(f"{name}{version}{marker} " + " ".join(f"--hash={h}" for h in hashes))
    return lines


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: lock_requirements.py Pipfile.lock", file=sys.stderr)
        return 2
    try:
        lines = requirements(json.loads(Path(argv[0]).read_text()))
    except (OSError, json.JSONDecodeError, LockError) as exc:
        print(f"lock_requirements: {argv[0]}: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
