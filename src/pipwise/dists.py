"""Distributions as they travel from index to environment: links, candidates, rejections,
and the resolution that `resolve/` produces and `install/` consumes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # annotations only: importing pipwise.dists loads nothing of packaging
    from packaging.utils import NormalizedName
    from packaging.version import Version

__all__ = ["Candidate", "DirectUrl", "Link", "Pin", "Rejection", "Resolution"]


@dataclass(frozen=True, slots=True)
class Link:
    """A file an index or find-links location offers (PEP 503/691 anchor or JSON file entry)."""

    url: str
    filename: str
    #: The page (index project page, find-links page or directory) that offered this file.
    comes_from: str
    #: Hash name -> hex digest, from the URL fragment or the JSON ``hashes`` key.
    hashes: Mapping[str, str] = field(default_factory=dict)
    requires_python: str | None = None
    #: None when not yanked; the reason (possibly empty) when yanked (PEP 592).
    yanked: str | None = None
    #: Hashes of the PEP 658/714 ``.metadata`` file, or an empty mapping when it is offered
    #: without hashes; None when the index does not offer one.
    metadata_hashes: Mapping[str, str] | None = None
    #: PEP 700 upload time, ISO 8601, when the index gives it.
    upload_time: str | None = None
    size: int | None = None

    @property
    def is_file_url(self) -> bool:
        return self.url.startswith("file:")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A link that passed the evaluator: a concrete, installable file for the target."""

    name: NormalizedName
    version: Version
    link: Link
    kind: Literal["wheel", "sdist"]
    #: For wheels: the position of the best matching tag in the target's tag list
    #: (lower is better). For sdists: None.
    tag_priority: int | None = None


@dataclass(frozen=True, slots=True)
class Rejection:
    """A link the evaluator refused, with the reason in words (kept for explanations)."""

    link: Link
    reason: str
    #: A short stable key grouping similar reasons: "tags", "requires-python", "yanked",
    #: "prerelease", "version", "sdist", "invalid-filename", "name-mismatch".
    category: str


@dataclass(frozen=True, slots=True)
class DirectUrl:
    """Where a URL or path requirement came from, recorded as PEP 610 ``direct_url.json``."""

    url: str
    #: ``{"archive_info": {...}}`` or ``{"dir_info": {...}}`` style payload, as in PEP 610.
    info: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class Pin:
    """One package chosen by the resolver."""

    name: NormalizedName
    version: Version
    candidate: Candidate
    #: Extras the resolution activated for this package.
    extras: frozenset[str] = frozenset()
    #: Whether the user named this package (writes REQUESTED on install).
    requested: bool = False
    direct_url: DirectUrl | None = None


@dataclass(frozen=True, slots=True)
class Resolution:
    """The complete set of pins for a request, in a stable install order."""

    pins: Mapping[NormalizedName, Pin]
