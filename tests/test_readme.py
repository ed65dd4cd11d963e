"""Every command the README shows is real: each make target exists and dry-runs, each Python module
answers --help. Keeps the README true as targets change."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
_MAKE = re.compile(r"`((?:[A-Z_]+=\S+ )*make [a-z][\w-]*(?: [A-Z_]+=\S+)*)`|^((?:[A-Z_]+=\S+ )*make [a-z][\w-]*)", re.M)
_PYTHON_MODULE = re.compile(r"`python -m ([\w.]+)")


def make_commands() -> list[str]:
    found = {m.group(1) or m.group(2) for m in _MAKE.finditer(README)}
    return sorted(c.strip() for c in found)


def test_readme_first_screen_has_the_two_setup_commands() -> None:
    first_screen = "\n".join(README.splitlines()[:12])
    assert "make synth" in first_screen and "make test" in first_screen


def test_readme_shows_many_make_commands() -> None:
    assert len(make_commands()) >= 20


@pytest.mark.parametrize("command", make_commands())
def test_readme_make_command_dry_runs(command: str) -> None:
    words = shlex.split(command)
    env_assignments = [w for w in words if "=" in w and w.split("=")[0].isupper()]
    target = next(w for w in words if w not in env_assignments and w != "make")
    result = subprocess.run(
        ["make", "-n", target, *env_assignments], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, f"{command}: {result.stderr}"


@pytest.mark.parametrize("module", sorted(set(_PYTHON_MODULE.findall(README))))
def test_readme_python_module_answers_help(module: str) -> None:
    result = subprocess.run([sys.executable, "-m", module, "--help"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    assert result.returncode == 0, f"python -m {module} --help: {result.stderr}"
    assert "usage" in result.stdout.lower()
