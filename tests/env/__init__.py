"""Helpers for the env tests: the real interpreters of this machine, skipping when absent."""

from __future__ import annotations

from pathlib import Path

from tests.support.pythons import PYENV_ROOT, make_venv, require_python

__all__ = ["DEBIAN_PYTHON", "PYENV_ROOT", "make_venv", "require_python"]

#: Debian's system Python, marked externally managed (PEP 668).
DEBIAN_PYTHON = Path("/usr/bin/python3.11")
