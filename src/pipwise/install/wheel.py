"""Installing one wheel into a scheme with `installer`: validated first, undone on failure."""

from __future__ import annotations

import base64
import configparser
import contextlib
import hashlib
import io
import json
import os
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path, PureWindowsPath
from typing import BinaryIO, cast

import installer
from installer.destinations import SchemeDictionaryDestination
from installer.exceptions import InstallerError
from installer.records import RecordEntry
from installer.sources import WheelContentElement, WheelFile
from installer.utils import Scheme as SchemeName
from installer.utils import get_launcher_kind, parse_entrypoints

from pipwise.dists import DirectUrl
from pipwise.errors import DiagnosticError
from pipwise.install.uninstall import Stash
from pipwise.target import Scheme

__all__ = ["install_wheel"]


def install_wheel(
    wheel: Path,
    scheme: Scheme,
    *,
    interpreter: str,
    requested: bool,
    direct_url: DirectUrl | None = None,
    installer_name: str = "pipwise",
) -> Path:
    """Install ``wheel`` into ``scheme``; scripts run with ``interpreter``. No bytecode is compiled.

    Returns the installed ``.dist-info`` directory (`read_distribution` reads it). The
    wheel is checked (paths, RECORD hashes and sizes) before anything is written, and a
    failure midway removes what was written and restores what was overwritten.
    """
    metadata = {"INSTALLER": f"{installer_name}\n".encode()}
    if requested:
        metadata["REQUESTED"] = b""
    if direct_url is not None:
        # PEP 610: the url key beside one of archive_info, dir_info or vcs_info.
        metadata["direct_url.json"] = json.dumps(
            {"url": direct_url.url, **direct_url.info}
        ).encode()
    try:
        with zipfile.ZipFile(wheel) as archive:
            source = _VerifyingWheelFile(archive)
            _validate(wheel, source, archive.namelist())
            destination = _JournalingDestination(scheme, interpreter)
            try:
                installer.install(source, destination, metadata)
            except BaseException:
                destination.undo()
                raise
            destination.backups.commit()
    except _RecordMismatch as exc:
        raise _invalid(wheel, "its files do not match its RECORD", str(exc)) from exc
    except (InstallerError, ValueError, KeyError, configparser.Error, zipfile.BadZipFile) as exc:
        raise _invalid(wheel, "its contents break the wheel format", str(exc)) from exc
    except OSError as exc:
        raise DiagnosticError(
            "install-failed",
            "environment",
            f"could not install {wheel.name}; nothing was left half-installed",
            evidence=(str(exc),),
        ) from exc
    if destination.record is None:  # installer.install always finalizes; kept for mypy
        raise AssertionError("installer did not write RECORD")
    return destination.record.parent


def _validate(wheel: Path, source: WheelFile, names: Iterable[str]) -> None:
    _refuse_unsafe(wheel, [name for name in names if _is_unsafe(name)])
    if "entry_points.txt" in source.dist_info_filenames:
        try:
            entries = parse_entrypoints(source.read_dist_info("entry_points.txt"))
            scripts = [entry[0] for entry in entries]
        except (ValueError, configparser.Error, AssertionError) as exc:
            # installer checks entry point syntax with assert statements.
            raise _invalid(wheel, "its entry_points.txt is malformed", repr(exc)) from exc
        # A script name is a file name in the scripts directory, never a path.
        bad = [name for name in scripts if _is_unsafe(name) or "/" in name or "\\" in name]
        _refuse_unsafe(wheel, [f"script {name!r}" for name in bad])
    for required in ("METADATA", "WHEEL"):
        if required not in source.dist_info_filenames:
            raise _invalid(wheel, f"it has no {source.dist_info_dir}/{required}")
    try:
        # Names only: contents are checked as they are read for writing (one decompression).
        source.validate_record(validate_contents=False)
    except source.validation_error as exc:
        issues = getattr(exc, "issues", [str(exc)])
        raise _invalid(wheel, "its files do not match its RECORD", *issues) from exc


def _refuse_unsafe(wheel: Path, unsafe: list[str]) -> None:
    if unsafe:
        raise DiagnosticError(
            "unsafe-wheel",
            "integrity",
            f"{wheel.name} would write outside the install directories; nothing was installed",
            evidence=tuple(unsafe),
            note="A wheel's paths must be relative and free of '..' (PEP 427).",
        )


def _is_unsafe(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return name.startswith(("/", "\\")) or bool(PureWindowsPath(name).drive) or ".." in parts


def _invalid(wheel: Path, why: str, *evidence: str) -> DiagnosticError:
    return DiagnosticError(
        "invalid-wheel",
        "integrity",
        f"{wheel.name} is not a valid wheel: {why}; nothing was installed",
        evidence=(str(wheel), *evidence),
        note="Rebuild the wheel, or download it again if it came from an index.",
    )


class _VerifyingWheelFile(WheelFile):
    """Checks each member against its RECORD hash and size as it is read for installing.

    Members are read into memory and verified before the destination sees a byte, so a
    tampered file is never written, and the archive is decompressed once rather than twice
    (once by ``validate_record``, again by the install).
    """

    def get_contents(self) -> Iterator[WheelContentElement]:
        for record, stream, is_executable in super().get_contents():
            path, hash_text, size = record
            if path.startswith(f"{self.dist_info_dir}/RECORD"):
                yield record, stream, is_executable
                continue
            data = stream.read()
            algorithm, _, expected = hash_text.partition("=")
            if algorithm not in hashlib.algorithms_guaranteed or algorithm in ("md5", "sha1"):
                raise _RecordMismatch(f"{path}: RECORD has no usable hash ({hash_text!r})")
            digest = hashlib.new(algorithm, data).digest()
            actual = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if actual != expected:
                raise _RecordMismatch(f"{path}: hash {algorithm}={actual}, RECORD says {expected}")
            if size and int(size) != len(data):
                raise _RecordMismatch(f"{path}: {len(data)} bytes, RECORD says {size}")
            yield record, cast(BinaryIO, io.BytesIO(data)), is_executable


class _RecordMismatch(ValueError):
    """A member's bytes differ from what RECORD promises."""


class _JournalingDestination(SchemeDictionaryDestination):
    """Records what it writes and stashes what it overwrites, so a failure can be undone."""

    def __init__(self, scheme: Scheme, interpreter: str) -> None:
        super().__init__(
            scheme.as_dict(),
            interpreter=interpreter,
            script_kind=get_launcher_kind(),
            hash_algorithm="sha256",
        )
        # Overwritten files (another distribution's, or leftovers) go back on failure.
        self.backups = Stash(Path(scheme.data))
        self.written: dict[Path, None] = {}
        self.created_dirs: list[Path] = []
        #: The RECORD written by `finalize_installation` (in the .dist-info directory).
        self.record: Path | None = None

    def write_to_fs(
        self, scheme: SchemeName, path: str, stream: BinaryIO, is_executable: bool
    ) -> RecordEntry:
        root = Path(self.scheme_dict[scheme]).absolute()
        target = Path(os.path.normpath(root / path))
        if not target.is_relative_to(root):
            raise ValueError(f"{path} is outside the {scheme} directory")
        missing = []
        parent = target.parent
        while not parent.exists():
            missing.append(parent)
            parent = parent.parent
        self.created_dirs += reversed(missing)
        if target not in self.written and os.path.lexists(target):
            self.backups.add(target)
        # Journal before writing, so a partly written file is removed too.
        self.written[target] = None
        return super().write_to_fs(scheme, path, stream, is_executable)

    def finalize_installation(
        self,
        scheme: SchemeName,
        record_file_path: str,
        records: Iterable[tuple[SchemeName, RecordEntry]],
    ) -> None:
        # ``scheme`` is the wheel's root scheme (Root-Is-Purelib), so the .dist-info is here.
        self.record = Path(self.scheme_dict[scheme]).absolute() / record_file_path
        super().finalize_installation(scheme, record_file_path, records)

    def undo(self) -> None:
        """Remove what was written (best effort) and restore what was overwritten."""
        for path in reversed(self.written):
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
        for directory in reversed(self.created_dirs):
            with contextlib.suppress(OSError):
                directory.rmdir()
        self.backups.rollback()
