"""Helpers for install tests: a real target venv, tree snapshots and tampered wheels."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pipwise.target import Scheme
from tests.support.pythons import make_venv, venv_scheme


@dataclass(frozen=True)
class Venv:
    """A real virtual environment made with ``python -m venv --without-pip``."""

    prefix: Path
    python: Path
    scheme: Scheme

    @property
    def site_packages(self) -> Path:
        return Path(self.scheme.purelib)

    @property
    def scripts(self) -> Path:
        return Path(self.scheme.scripts)

    def run(self, *args: str | Path) -> str:
        """Run the venv's python with ``args``; return its stdout."""
        result = subprocess.run(
            [self.python, *args], check=True, capture_output=True, text=True, timeout=60
        )
        return result.stdout


def create_venv(prefix: Path) -> Venv:
    """Create a venv at ``prefix`` and read its install scheme from its own sysconfig."""
    python = make_venv(prefix, Path(sys.executable))
    return Venv(prefix=prefix, python=python, scheme=venv_scheme(python))


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root``: file contents, or None for a directory."""
    return {
        str(path.relative_to(root)): None if path.is_dir() else path.read_bytes()
        for path in sorted(root.rglob("*"))
    }


def rewrite_member(wheel: Path, member: str, content: str) -> None:
    """Replace ``member``'s content in ``wheel`` without updating RECORD."""
    with zipfile.ZipFile(wheel) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members[member] = content.encode()
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
