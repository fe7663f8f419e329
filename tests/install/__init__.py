"""Helpers for install tests: a real target venv, tree snapshots and tampered wheels."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pipwise.target import Scheme


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
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", prefix], check=True)
    python = prefix / "bin" / "python"
    probe = "import json, sysconfig; print(json.dumps(sysconfig.get_paths()))"
    paths = json.loads(
        subprocess.run([python, "-c", probe], check=True, capture_output=True, text=True).stdout
    )
    scheme = Scheme(
        purelib=paths["purelib"],
        platlib=paths["platlib"],
        scripts=paths["scripts"],
        data=paths["data"],
        headers=paths["include"],
    )
    return Venv(prefix=prefix, python=python, scheme=scheme)


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
