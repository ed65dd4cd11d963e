"""Container entry point: `secrets_env.py <command> [args...]` exports every file of the mounted Secret volume
($PEAKSHOP_SECRETS_DIR, one file per key) as an environment variable, then execs the command. The chart
ships it in a ConfigMap mounted into every pod, so any image with a Python interpreter works unchanged.

Why: the services read settings from PEAKSHOP_<SERVICE>_<KEY> variables (apps/runtime/config.py), while
the charts mount secrets as read-only files (never `secretKeyRef`/`envFrom: secretRef`, which would put
them into the pod spec's environment where `kubectl describe` and crash dumps show them). Standard library
only: it runs with the image's interpreter before anything else.

Exit status 2 with a message naming the problem when the directory or a key is unusable.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

KEY = re.compile(r"^[A-Z_][A-Z0-9_]*$")


class SecretsError(RuntimeError):
    pass


def read_secrets(directory: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """Keys of a Kubernetes Secret volume (symlinks into ..data; dot-entries are the volume's bookkeeping)."""
    if not directory.is_dir():
        raise SecretsError(f"PEAKSHOP_SECRETS_DIR: {directory} is not a directory (is the Secret mounted?)")
    values: dict[str, str] = {}
    for entry in sorted(directory.iterdir()):
        if entry.name.startswith(".") or not entry.is_file():
            continue
        if not KEY.match(entry.name):
            raise SecretsError(f"{entry}: secret keys must be environment variable names ([A-Z_][A-Z0-9_]*)")
        if entry.name in environ:
            raise SecretsError(f"{entry.name}: set both as a secret file and in the environment; remove one")
        try:
            values[entry.name] = entry.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SecretsError(f"{entry}: cannot read: {exc}") from None
    return values


def main(argv: list[str]) -> int:
    if not argv:
        print("secrets_env: usage: secrets_env.py <command> [args...]", file=sys.stderr)
        return 2
    directory = os.environ.get("PEAKSHOP_SECRETS_DIR", "")
    env = dict(os.environ)
    if directory:
        try:
            env.update(read_secrets(Path(directory), os.environ))
        except SecretsError as exc:
            print(f"secrets_env: {exc}", file=sys.stderr)
            return 2
    try:
        os.execvpe(argv[0], argv, env)
    except OSError as exc:
        print(f"secrets_env: cannot run {argv[0]!r}: {exc}", file=sys.stderr)
        return 2
    return 0  # pragma: no cover - execvpe does not return


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
