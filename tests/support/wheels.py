"""Build real wheels and sdists for tests: valid zips with METADATA, WHEEL and a hashed RECORD."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name


@dataclass
class WheelSpec:
    """What a test wheel contains."""

    name: str
    version: str
    requires: Iterable[str] = ()
    requires_python: str | None = None
    extras: Iterable[str] = ()
    #: Wheel tag (``py3-none-any``) or a compressed tag set (``cp311-cp311-manylinux_2_17_x86_64``).
    tag: str = "py3-none-any"
    #: Relative path in the wheel -> content. Defaults to a module named after the project.
    files: Mapping[str, str] | None = None
    #: Console script name -> ``module:function``.
    console_scripts: Mapping[str, str] = field(default_factory=dict)
    summary: str = "A test package"

    @property
    def distribution(self) -> str:
        return canonicalize_name(self.name).replace("-", "_")

    @property
    def filename(self) -> str:
        return f"{self.distribution}-{self.version}-{self.tag}.whl"

    def metadata(self) -> str:
        lines = [
            "Metadata-Version: 2.1",
            f"Name: {self.name}",
            f"Version: {self.version}",
            f"Summary: {self.summary}",
        ]
        if self.requires_python:
            lines.append(f"Requires-Python: {self.requires_python}")
        lines += [f"Provides-Extra: {extra}" for extra in self.extras]
        lines += [f"Requires-Dist: {req}" for req in self.requires]
        return "\n".join(lines) + "\n\n"


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode()


def build_wheel(spec: WheelSpec, directory: Path) -> Path:
    """Write ``spec`` as a wheel into ``directory`` and return its path."""
    module = spec.distribution
    files = (
        dict(spec.files)
        if spec.files is not None
        else {
            f"{module}/__init__.py": f'__version__ = "{spec.version}"\nNAME = "{spec.name}"\n',
        }
    )
    dist_info = f"{module}-{spec.version}.dist-info"
    pure = spec.tag.endswith("-none-any")
    files[f"{dist_info}/METADATA"] = spec.metadata()
    files[f"{dist_info}/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: pipwise-tests\n"
        f"Root-Is-Purelib: {'true' if pure else 'false'}\nTag: {spec.tag}\n"
    )
    if spec.console_scripts:
        entries = "".join(f"{n} = {t}\n" for n, t in spec.console_scripts.items())
        files[f"{dist_info}/entry_points.txt"] = "[console_scripts]\n" + entries
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / spec.filename
    record = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            data = text.encode()
            archive.writestr(name, data)
            record.append(f"{name},{_record_hash(data)},{len(data)}")
        record.append(f"{dist_info}/RECORD,,")
        archive.writestr(f"{dist_info}/RECORD", "\n".join(record) + "\n")
    return path


def build_sdist(name: str, version: str, directory: Path) -> Path:
    """Write a minimal sdist (``.tar.gz`` with PKG-INFO and pyproject.toml)."""
    base = f"{canonicalize_name(name).replace('-', '_')}-{version}"
    members = {
        f"{base}/PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{base}/pyproject.toml": '[build-system]\nrequires = ["setuptools"]\n'
        'build-backend = "setuptools.build_meta"\n',
    }
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{base}.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for member, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(member)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
