"""What is installed in a target, read from its ``*.dist-info`` and ``*.egg-info`` metadata
without running it."""

from __future__ import annotations

import csv
import json
import logging
import os
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from pipwise.dists import DirectUrl
from pipwise.errors import DiagnosticError
from pipwise.target import MarkerError, Target

if TYPE_CHECKING:
    from packaging.markers import Marker
    from packaging.requirements import Requirement

__all__ = [
    "InstalledDistribution",
    "installed_distributions",
    "read_distribution",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class InstalledDistribution:
    """One ``*.dist-info`` directory (or legacy ``*.egg-info``) and what its files say."""

    #: The name as spelled in METADATA.
    name: str
    canonical_name: NormalizedName
    #: None when METADATA's version is not a valid PEP 440 version (see ``raw_version``).
    version: Version | None
    raw_version: str
    #: The site-packages directory holding ``dist_info``.
    location: Path
    #: The ``.dist-info`` directory, or the ``.egg-info`` directory or file (`is_egg_info`).
    dist_info: Path
    #: Whether a user asked for it by name (PEP 376 ``REQUESTED``).
    requested: bool
    #: The tool that installed it (``INSTALLER``), or "" when unknown.
    installer: str
    #: PEP 610 ``direct_url.json``, when it was installed from a URL or a path.
    direct_url: DirectUrl | None
    #: ``Requires-Dist`` entries, as written (markers and extras included); for an egg-info,
    #: ``requires.txt`` with its ``[extra:marker]`` sections turned into markers.
    requires: tuple[str, ...]
    summary: str
    home_page: str
    author: str
    author_email: str
    license: str

    @property
    def is_egg_info(self) -> bool:
        """Installed by setuptools' legacy ``setup.py install`` (or a distro package)."""
        return self.dist_info.suffix == ".egg-info"

    @property
    def record(self) -> Path:
        """The file listing what was installed: RECORD, or an egg-info's installed-files.txt."""
        name = "installed-files.txt" if self.is_egg_info else "RECORD"
        return self.dist_info / name

    def record_files(self) -> list[Path] | None:
        """The absolute paths the `record` lists (not resolved; may include missing files).

        None when there is no such file (an ``.egg-info`` file never has one); an
        ``unreadable-record`` diagnosis when it cannot be read or decoded.
        """
        try:
            text = self.record.read_text(encoding="utf-8")
            if self.is_egg_info:
                # installed-files.txt: one path a line, relative to the .egg-info directory.
                relative = [line.strip() for line in text.splitlines() if line.strip()]
                base = self.dist_info
            else:
                # RECORD paths are relative to the directory holding the .dist-info (PEP 376).
                relative = [row[0] for row in csv.reader(text.splitlines()) if row and row[0]]
                base = self.location
        except (FileNotFoundError, NotADirectoryError):
            return None
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise DiagnosticError(
                "unreadable-record",
                "environment",
                f"The list of files of {self.name} {self.raw_version} cannot be read: "
                f"{self.record}",
                evidence=(f"{self.record}: {exc}",),
                note=f"pipwise needs this file to know which files belong to {self.name}; "
                "nothing was changed. Make it readable again or, if it is damaged, remove "
                f"{self.name} with the tool that installed it"
                + (f" ({self.installer})." if self.installer else "."),
            ) from exc
        return [Path(os.path.normpath(base / path)) for path in relative]

    def files(self) -> list[Path]:
        """`record_files`, or a ``missing-record`` diagnosis when there is no such file."""
        listed = self.record_files()
        if listed is None:
            raise DiagnosticError(
                "missing-record",
                "environment",
                f"{self.name} {self.raw_version} has no {self.record.name} file, so its files "
                "are unknown",
                evidence=(str(self.dist_info),),
                fix=f"rm -r {shlex.quote(str(self.dist_info))}",
                note=f"{self.record.name} lists every installed file; without it nothing can "
                f"be removed safely. After removing the metadata directory, install "
                f"{self.name} again.",
            )
        return listed

    def requirements_for(self, target: Target | Mapping[str, str]) -> list[Requirement]:
        """The requirements that apply on ``target`` (a target or its marker environment).

        No extra is active: pip installs a dependency's extras only when asked, and nothing
        records that they were. Entries that are not valid PEP 508, or whose marker cannot
        be evaluated (``python_version ~= "3"``), are skipped with a debug log: they are
        the package's bug, and must not stop ``show`` or an install.
        """
        from packaging.requirements import InvalidRequirement, Requirement

        applying: list[Requirement] = []
        for line in self.requires:
            try:
                requirement = Requirement(line)
                applies = _marker_applies(target, requirement.marker)
            except (InvalidRequirement, MarkerError) as exc:
                logger.debug(
                    "%s %s: skipping Requires-Dist %r (%s)", self.name, self.raw_version, line, exc
                )
                continue
            if applies:
                applying.append(requirement)
        return applying


def _marker_applies(target: Target | Mapping[str, str], marker: Marker | None) -> bool:
    if isinstance(target, Target):
        return target.marker_applies(marker)
    if marker is None:
        return True
    # A bare marker environment (callers that have no Target): same translation as
    # Target.marker_applies.
    from packaging.markers import UndefinedComparison, UndefinedEnvironmentName

    try:
        return marker.evaluate({**target, "extra": ""})
    except (UndefinedComparison, UndefinedEnvironmentName) as exc:
        raise MarkerError(f"marker {str(marker)!r} cannot be evaluated: {exc}") from exc


def read_distribution(path: Path) -> InstalledDistribution:
    """Read one ``*.dist-info`` or ``*.egg-info`` directory, or an ``*.egg-info`` file.

    Raises `OSError` when its metadata (METADATA, PKG-INFO) cannot be read. An egg-info
    file (distutils) is itself the PKG-INFO.
    """
    from packaging.metadata import parse_email  # the email stack costs ~30 ms to import

    egg_info = path.suffix == ".egg-info"
    metadata = (path / "PKG-INFO" if path.is_dir() else path) if egg_info else path / "METADATA"
    raw, _ = parse_email(metadata.read_bytes())
    # PEP 427: {distribution}-{version}.dist-info; setuptools: {name}-{version}[-pyX.Y].egg-info.
    dir_name, _, rest = path.name.removesuffix(path.suffix).partition("-")
    name = raw.get("name") or dir_name
    raw_version = raw.get("version") or rest.partition("-")[0]
    try:
        version: Version | None = Version(raw_version)
    except InvalidVersion:
        version = None
    if egg_info:
        requires = _egg_requires(_read_small(path / "requires.txt")) if path.is_dir() else ()
    else:
        requires = tuple(raw.get("requires_dist", ()))
    return InstalledDistribution(
        name=name,
        canonical_name=canonicalize_name(name),
        version=version,
        raw_version=raw_version,
        location=path.parent,
        dist_info=path,
        requested=(path / "REQUESTED").exists(),
        installer=_read_small(path / "INSTALLER").strip(),
        direct_url=_read_direct_url(path / "direct_url.json"),
        requires=requires,
        summary=raw.get("summary", ""),
        home_page=raw.get("home_page", ""),
        author=raw.get("author", ""),
        author_email=raw.get("author_email", ""),
        license=raw.get("license_expression") or raw.get("license", ""),
    )


def _read_small(path: Path) -> str:
    """A small informational text file, "" when absent or unreadable; bad bytes replaced."""
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return ""


def _egg_requires(text: str) -> tuple[str, ...]:
    """``requires.txt`` as ``Requires-Dist`` lines: its sections become markers.

    ``[name]`` is the extra ``name``, ``[:marker]`` a marker, ``[name:marker]`` both; the
    same conversion as importlib.metadata's ``_convert_egg_info_reqs_to_simple_reqs``.
    """
    lines: list[str] = []
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            continue
        extra, _, marker = section.partition(":")
        conditions = [f"({marker})" if extra and marker else marker]
        if extra:
            conditions.append(f'extra == "{extra}"')
        condition = " and ".join(part for part in conditions if part)
        # PEP 508 needs a space between a URL and its marker.
        separator = " ; " if "@" in line else "; "
        lines.append(f"{line}{separator}{condition}" if condition else line)
    return tuple(lines)


def _read_direct_url(path: Path) -> DirectUrl | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, ValueError) as exc:
        logger.warning("ignoring unreadable %s (%s)", path, exc)
        return None
    if not isinstance(data, dict) or not isinstance(data.get("url"), str):
        logger.warning("ignoring %s: no url key", path)
        return None
    url = data.pop("url")
    return DirectUrl(url=url, info=data)


def installed_distributions(paths: Sequence[str]) -> list[InstalledDistribution]:
    """Every distribution in the given site-packages directories, sorted by canonical name.

    Both ``*.dist-info`` and legacy ``*.egg-info`` metadata are read. Equal directories
    (purelib is often platlib) are scanned once. A name found twice (a stale ``.dist-info``
    left beside a newer one) is reported twice, first path first. Metadata that cannot be
    read is skipped with a warning, so one broken entry never hides the others.
    """
    seen: set[str] = set()
    found: list[InstalledDistribution] = []
    for path in paths:
        key = os.path.normcase(os.path.realpath(path))
        if key in seen or not Path(path).is_dir():
            continue
        seen.add(key)
        entries = [*Path(path).glob("*.dist-info"), *Path(path).glob("*.egg-info")]
        for entry in sorted(entries):
            try:
                found.append(read_distribution(entry))
            except (OSError, ValueError) as exc:
                logger.warning("ignoring %s: cannot read its metadata (%s)", entry, exc)
    # sorted() is stable, so duplicates keep the order of ``paths``.
    return sorted(found, key=lambda dist: dist.canonical_name)
