"""Helpers for the env tests: the real interpreters of this machine, skipping when absent."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

PYENV_ROOT = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
#: Debian's system Python, marked externally managed (PEP 668).
DEBIAN_PYTHON = Path("/usr/bin/python3.11")


def pyenv_python(version: str) -> Path:
    """The newest pyenv CPython ``X.Y.*`` interpreter, or skip the test."""
    installs = sorted(
        (PYENV_ROOT / "versions").glob(f"{version}.*/bin/python{version}"),
        key=lambda path: [int(part) for part in path.parent.parent.name.split(".")],
    )
    if not installs:
        pytest.skip(f"no pyenv Python {version} under {PYENV_ROOT}")
    return installs[-1]


def make_venv(path: Path, python: Path) -> Path:
    """A real venv without pip, made by the stdlib (independent of pipwise.env.venv)."""
    subprocess.run([str(python), "-I", "-m", "venv", "--without-pip", str(path)], check=True)
    return path / "bin" / "python"
