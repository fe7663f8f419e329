"""The real interpreters of this machine for tests: pyenv's Pythons and venvs made from them."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from pipwise.target import Scheme

__all__ = ["PYENV_ROOT", "make_venv", "pyenv_python", "require_python", "venv_scheme"]

PYENV_ROOT = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
_RELEASE = re.compile(r"^\d+\.\d+\.\d+$")


def pyenv_python(minor: str) -> Path | None:
    """The newest pyenv CPython ``minor.*`` (``3.11.10`` beats ``3.11.9``), or None."""
    installs = [
        path
        for path in (PYENV_ROOT / "versions").glob(f"{minor}.*/bin/python{minor}")
        if _RELEASE.match(path.parent.parent.name)
    ]
    if not installs:
        return None
    return max(installs, key=lambda path: tuple(map(int, path.parent.parent.name.split("."))))


def require_python(minor: str) -> Path:
    """`pyenv_python`, or skip the test naming what is missing."""
    python = pyenv_python(minor)
    if python is None:
        pytest.skip(f"no pyenv Python {minor} under {PYENV_ROOT / 'versions'}")
    return python


def make_venv(path: Path, python: Path) -> Path:
    """A real venv without pip, made by the stdlib (independent of pipwise.env.venv).

    Returns the venv's interpreter.
    """
    subprocess.run(
        [str(python), "-I", "-m", "venv", "--without-pip", str(path)], check=True, timeout=120
    )
    return path / "bin" / "python"


def venv_scheme(python: Path) -> Scheme:
    """The install scheme ``python`` reports for itself (its own sysconfig, not ours)."""
    probe = "import json, sysconfig; print(json.dumps(sysconfig.get_paths()))"
    run = subprocess.run(
        [str(python), "-I", "-c", probe], check=True, capture_output=True, text=True, timeout=60
    )
    paths = json.loads(run.stdout)
    return Scheme(
        purelib=paths["purelib"],
        platlib=paths["platlib"],
        scripts=paths["scripts"],
        data=paths["data"],
        headers=paths["include"],
    )
