"""What is installed in a target, read from its ``*.dist-info`` directories without running it."""

from __future__ import annotations

import csv
import json
import logging
import os
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from pipwise.dists import DirectUrl
from pipwise.errors import DiagnosticError

__all__ = [
    "InstalledDistribution",
    "find_installed",
    "installed_distributions",
    "read_distribution",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class InstalledDistribution:
    """One ``*.dist-info`` directory and what its metadata files say."""

    #: The name as spelled in METADATA.
    name: str
    canonical_name: NormalizedName
    #: None when METADATA's version is not a valid PEP 440 version (see ``raw_version``).
    version: Version | None
    raw_version: str
    #: The site-packages directory holding ``dist_info``.
    location: Path
    dist_info: Path
    #: Whether a user asked for it by name (PEP 376 ``REQUESTED``).
    requested: bool
    #: The tool that installed it (``INSTALLER``), or "" when unknown.
    installer: str
    #: PEP 610 ``direct_url.json``, when it was installed from a URL or a path.
    direct_url: DirectUrl | None
    #: ``Requires-Dist`` entries, as written (markers and extras included).
    requires: tuple[str, ...]
    summary: str
    home_page: str
    author: str
    author_email: str
    license: str

    def files(self) -> list[Path]:
        """The absolute paths RECORD lists (not resolved; may include missing files)."""
        try:
            text = (self.dist_info / "RECORD").read_text(encoding="utf-8")
        except FileNotFoundError:
            raise DiagnosticError(
                "missing-record",
                "environment",
                f"{self.name} {self.raw_version} has no RECORD file, so its files are unknown",
                evidence=(str(self.dist_info),),
                fix=f"rm -r {shlex.quote(str(self.dist_info))}",
                note="RECORD lists every installed file; without it nothing can be removed "
                f"safely. After removing the metadata directory, install {self.name} again.",
            ) from None
        # RECORD paths are relative to the directory holding the .dist-info (PEP 376).
        return [
            Path(os.path.normpath(self.location / row[0]))
            for row in csv.reader(text.splitlines())
            if row and row[0]
        ]


def read_distribution(dist_info: Path) -> InstalledDistribution:
    """Read one ``*.dist-info`` directory (`OSError` when its METADATA cannot be read)."""
    from packaging.metadata import parse_email  # the email stack costs ~30 ms to import

    raw, _ = parse_email((dist_info / "METADATA").read_bytes())
    # PEP 427: the directory is named {distribution}-{version}.dist-info.
    dir_name, _, dir_version = dist_info.name.removesuffix(".dist-info").partition("-")
    name = raw.get("name") or dir_name
    raw_version = raw.get("version") or dir_version
    try:
        version: Version | None = Version(raw_version)
    except InvalidVersion:
        version = None
    installer = dist_info / "INSTALLER"
    return InstalledDistribution(
        name=name,
        canonical_name=canonicalize_name(name),
        version=version,
        raw_version=raw_version,
        location=dist_info.parent,
        dist_info=dist_info,
        requested=(dist_info / "REQUESTED").exists(),
        installer=installer.read_text(encoding="utf-8").strip() if installer.exists() else "",
        direct_url=_read_direct_url(dist_info / "direct_url.json"),
        requires=tuple(raw.get("requires_dist", ())),
        summary=raw.get("summary", ""),
        home_page=raw.get("home_page", ""),
        author=raw.get("author", ""),
        author_email=raw.get("author_email", ""),
        license=raw.get("license_expression") or raw.get("license", ""),
    )


def _read_direct_url(path: Path) -> DirectUrl | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
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

    Equal directories (purelib is often platlib) are scanned once. A name found twice
    (a stale ``.dist-info`` left beside a newer one) is reported twice, first path first.
    """
    seen: set[str] = set()
    found: list[InstalledDistribution] = []
    for path in paths:
        key = os.path.normcase(os.path.realpath(path))
        if key in seen or not Path(path).is_dir():
            continue
        seen.add(key)
        for dist_info in sorted(Path(path).glob("*.dist-info")):
            try:
                found.append(read_distribution(dist_info))
            except OSError as exc:
                logger.warning("ignoring %s: cannot read its METADATA (%s)", dist_info, exc)
    # sorted() is stable, so duplicates keep the order of ``paths``.
    return sorted(found, key=lambda dist: dist.canonical_name)


def find_installed(paths: Sequence[str], name: str) -> InstalledDistribution | None:
    """The first distribution named ``name`` (any spelling) in ``paths``, or None."""
    wanted = canonicalize_name(name)
    return next(
        (dist for dist in installed_distributions(paths) if dist.canonical_name == wanted),
        None,
    )
