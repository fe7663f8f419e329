"""pip's installation report (``install --report``, format version "1") for a plan's pins.

The shape is pip's, field for field (https://pip.pypa.io/en/stable/reference/installation-report/):
``version`` is "1"; ``pip_version`` holds *pipwise's* version (the format has no other place
for the producing tool, and consumers only check ``version``); ``install`` lists what the
run installs, upgrades or reinstalls (not what is already there and kept, as in pip);
``environment`` is the target's marker environment, not pipwise's own.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import NotRequired, Required, TypedDict
from urllib.parse import urlsplit, urlunsplit

from packaging.metadata import InvalidMetadata, Metadata

from pipwise import __version__
from pipwise.dists import Pin
from pipwise.errors import DiagnosticError
from pipwise.net.http import url_to_path

__all__ = [
    "REPORT_VERSION",
    "DownloadInfo",
    "InstallationReport",
    "ReportItem",
    "download_info",
    "dumps_report",
    "installation_report",
    "metadata_to_json",
    "report_item",
    "write_report",
]

logger = logging.getLogger(__name__)

#: The report format version pip documents as stable.
REPORT_VERSION = "1"

MetadataJson = dict[str, str | list[str]]


class DownloadInfo(TypedDict, total=False):
    """PEP 610 ``direct_url.json`` data for where the file came from."""

    url: Required[str]
    #: ``{"hashes": {...}, "hash": "sha256=..."}`` (``hash``: pip's legacy form of one hash).
    archive_info: dict[str, object]
    dir_info: dict[str, object]
    vcs_info: dict[str, object]
    subdirectory: str


class ReportItem(TypedDict):
    """One distribution the run installs (pip's ``InstallationReportItem``)."""

    download_info: DownloadInfo
    #: True for a ``name @ URL`` or path requirement, False for a file found on an index.
    is_direct: bool
    #: True when the chosen file is yanked (PEP 592) and was still used for an ``==`` pin.
    is_yanked: bool
    #: True when the user named it (PEP 376 ``REQUESTED``), False for a dependency.
    requested: bool
    #: Extras the user asked for on this requirement; only present when there are some.
    requested_extras: NotRequired[list[str]]
    #: Core metadata converted to JSON by PEP 566's rules.
    metadata: MetadataJson


class InstallationReport(TypedDict):
    """The whole report."""

    version: str
    pip_version: str
    install: list[ReportItem]
    environment: dict[str, str]


# Core metadata fields as (PEP 566 JSON key, packaging ``Metadata`` attribute), in pip's
# order. Multiple-use fields keep the singular field name as key and hold a list.
_FIELDS: tuple[tuple[str, str], ...] = (
    ("metadata_version", "metadata_version"),
    ("name", "name"),
    ("version", "version"),
    ("dynamic", "dynamic"),
    ("platform", "platforms"),
    ("supported_platform", "supported_platforms"),
    ("summary", "summary"),
    ("description", "description"),
    ("description_content_type", "description_content_type"),
    ("keywords", "keywords"),
    ("home_page", "home_page"),
    ("download_url", "download_url"),
    ("author", "author"),
    ("author_email", "author_email"),
    ("maintainer", "maintainer"),
    ("maintainer_email", "maintainer_email"),
    ("license", "license"),
    ("license_expression", "license_expression"),
    ("license_file", "license_files"),
    ("classifier", "classifiers"),
    ("requires_dist", "requires_dist"),
    ("requires_python", "requires_python"),
    ("requires_external", "requires_external"),
    ("project_url", "project_urls"),
    ("provides_extra", "provides_extra"),
    ("provides_dist", "provides_dist"),
    ("obsoletes_dist", "obsoletes_dist"),
    ("import_name", "import_names"),
    ("import_namespace", "import_namespaces"),
    ("requires", "requires"),
    ("provides", "provides"),
    ("obsoletes", "obsoletes"),
)


def metadata_to_json(metadata: Metadata) -> MetadataJson:
    """Core metadata as JSON by PEP 566's rules (https://peps.python.org/pep-0566/#json-compatible-metadata).

    Keys are field names in lower case with ``-`` as ``_``; multiple-use fields are lists
    (``classifier``, ``requires_dist``, ``project_url`` as ``"label, url"``); ``keywords``
    is a list split on commas, or on whitespace when there is no comma (as pip does); the
    message body is ``description``. Values are those packaging parsed, so requirements and
    specifiers appear in packaging's normal form. A field whose value packaging refuses
    is left out.

    >>> from packaging.metadata import Metadata
    >>> text = b"Metadata-Version: 2.1\\nName: a\\nVersion: 1.0\\nKeywords: x y\\n\\nHello\\n"
    >>> metadata_to_json(Metadata.from_email(text, validate=False))
    {'metadata_version': '2.1', 'name': 'a', 'version': '1.0', 'description': 'Hello\\n', \
'keywords': ['x', 'y']}
    """
    result: MetadataJson = {}
    for key, attribute in _FIELDS:
        try:
            # getattr with a default: packaging < 26 has no import_names / import_namespaces.
            value: object = getattr(metadata, attribute, None)
        except InvalidMetadata as exc:
            logger.debug("report: leaving out %s (%s)", key, exc)
            continue
        if value is None:
            continue
        if isinstance(value, dict):
            result[key] = [f"{label}, {url}" for label, url in value.items()]
        elif isinstance(value, list):
            items = [str(item) for item in value]
            if key == "keywords" and len(items) == 1:
                items = items[0].split()
            result[key] = items
        else:
            result[key] = str(value)
    return result


# PEP 610: credentials are dropped from recorded URLs, except environment variables
# (``${USER}:${TOKEN}``) and the ``git`` user of ssh URLs.
_ENV_CREDENTIALS = re.compile(r"^\$\{[A-Za-z0-9_-]+\}(:\$\{[A-Za-z0-9_-]+\})?$")


def _strip_credentials(url: str) -> str:
    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at or userinfo == "git" or _ENV_CREDENTIALS.match(userinfo):
        return url
    return urlunsplit(parts._replace(netloc=hostport))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_info(pin: Pin, wheel: Path | None = None) -> DownloadInfo:
    """Where ``pin``'s file comes from, as PEP 610 data with pip's legacy ``hash`` key.

    Hashes are the index's (or the ``#sha256=`` of a direct URL). Without any, the sha256 of
    ``wheel`` (the downloaded file) or of a ``file:`` URL's file is computed, as pip does for
    files it has on disk; a remote file not downloaded (``--dry-run``) gets none.
    """
    if pin.direct_url is not None:
        url = pin.direct_url.url
        info: dict[str, object] = {k: v for k, v in pin.direct_url.info.items()}
    else:
        link = pin.candidate.link
        url = link.url
        info = {"archive_info": {"hashes": dict(link.hashes)} if link.hashes else {}}
    data: DownloadInfo = {"url": _strip_credentials(url)}
    archive = info.get("archive_info")
    if isinstance(archive, Mapping):
        archive_info = dict(archive)
        hashes = archive_info.get("hashes")
        if not (isinstance(hashes, Mapping) and hashes):
            local = wheel
            if local is None and url.startswith("file:"):
                local = url_to_path(url)
            hashes = {"sha256": _sha256(local)} if local is not None and local.is_file() else {}
        if hashes:
            hashes = {str(k): str(v) for k, v in hashes.items()}
            algorithm = "sha256" if "sha256" in hashes else next(iter(hashes))
            archive_info["hashes"] = hashes
            archive_info["hash"] = f"{algorithm}={hashes[algorithm]}"
        data["archive_info"] = archive_info
    dir_info, vcs_info = info.get("dir_info"), info.get("vcs_info")
    if isinstance(dir_info, Mapping):
        data["dir_info"] = dict(dir_info)
    if isinstance(vcs_info, Mapping):
        data["vcs_info"] = dict(vcs_info)
    subdirectory = info.get("subdirectory")
    if isinstance(subdirectory, str):
        data["subdirectory"] = subdirectory
    return data


def report_item(
    pin: Pin,
    metadata: Metadata,
    *,
    requested_extras: Iterable[str] = (),
    wheel: Path | None = None,
) -> ReportItem:
    """The report's entry for ``pin``; ``requested_extras`` are the extras the user named."""
    item: ReportItem = {
        "download_info": download_info(pin, wheel),
        "is_direct": pin.direct_url is not None,
        "is_yanked": pin.candidate.link.yanked is not None,
        "requested": pin.requested,
        "metadata": metadata_to_json(metadata),
    }
    extras = sorted(set(requested_extras))
    if pin.requested and extras:
        item["requested_extras"] = extras
    return item


def installation_report(
    items: Sequence[ReportItem], markers: Mapping[str, str]
) -> InstallationReport:
    """The report: ``items`` in install order and the target's marker environment."""
    return {
        "version": REPORT_VERSION,
        "pip_version": __version__,
        "install": list(items),
        # pip reports default_environment(): the marker keys, without "extra".
        "environment": {k: v for k, v in markers.items() if k != "extra"},
    }


def dumps_report(report: InstallationReport) -> str:
    """The report as pip writes it: JSON indented by two spaces, non-ASCII kept."""
    return json.dumps(report, indent=2, ensure_ascii=False)


def write_report(report: InstallationReport, path: Path) -> None:
    """Write the report to ``path`` (UTF-8), as a diagnosis when that fails."""
    try:
        path.write_text(dumps_report(report) + "\n", encoding="utf-8")
    except OSError as exc:
        raise DiagnosticError(
            "report-not-writable",
            "usage",
            f"cannot write the installation report to {path}",
            evidence=(f"{type(exc).__name__}: {exc.strerror or exc}",),
            note="--report - writes the report to standard output",
        ) from exc
