"""Pure link policy: whether a file can be installed on the target, and if not, why not."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from pipwise.dists import Candidate, Link, Rejection

__all__ = ["evaluate", "tag_ranks"]


def tag_ranks(tags: Iterable[Tag]) -> dict[Tag, int]:
    """Tag -> its position in ``tags`` (best first), for `evaluate` to look wheel tags up in.

    >>> ranks = tag_ranks([Tag("py3", "none", "any"), Tag("py2", "none", "any")])
    >>> ranks[Tag("py2", "none", "any")]
    1
    """
    ranks: dict[Tag, int] = {}
    for position, tag in enumerate(tags):
        ranks.setdefault(tag, position)
    return ranks


def evaluate(
    link: Link,
    *,
    name: NormalizedName,
    tags: Sequence[Tag],
    python_version: Version,
    ranks: Mapping[Tag, int] | None = None,
) -> Candidate | Rejection:
    """Judge ``link`` for project ``name`` on a target with ``tags`` (best first) and Python
    ``python_version``. A caller judging many links passes ``ranks=tag_ranks(tags)`` built
    once: hashing a target's ~900 tags costs more than the rest of a verdict.

    Rejects files that are not wheels or sdists, belong to another project, have no tag the
    target supports, or whose Requires-Python excludes the target. Yanked files and
    pre-releases pass: whether to use them depends on the request, so the resolver decides.
    """
    filename = link.filename
    wheel_tags: frozenset[Tag] | None = None
    try:
        if filename.endswith(".whl"):
            project, version, _build, wheel_tags = parse_wheel_filename(filename)
        elif filename.endswith((".tar.gz", ".zip")):
            project, version = parse_sdist_filename(filename)
        else:
            reason = f"{filename} is not a wheel or an sdist (.whl, .tar.gz, .zip)"
            return Rejection(link, reason, "invalid-filename")
    except (InvalidWheelFilename, InvalidSdistFilename) as exc:
        return Rejection(link, str(exc), "invalid-filename")
    if project != name:
        return Rejection(link, f"{filename} belongs to {project}, not {name}", "name-mismatch")
    priority = None
    if wheel_tags is not None:
        if ranks is None:
            ranks = tag_ranks(tags)
        matching = [ranks[tag] for tag in wheel_tags if tag in ranks]
        if not matching:
            offered = "-".join(filename.removesuffix(".whl").split("-")[-3:])
            best = str(tags[0]) if tags else "none"
            reason = f"wheel tags {offered} do not match the target (its best tag is {best})"
            return Rejection(link, reason, "tags")
        priority = min(matching)
    if link.requires_python:
        try:
            spec = SpecifierSet(link.requires_python)
        except InvalidSpecifier:
            spec = None  # pip ignores a malformed Requires-Python rather than the file
        # A pre-release interpreter (3.13.0rc1) still satisfies ">=3.8".
        if spec is not None and not spec.contains(python_version, prereleases=True):
            reason = f"requires Python {link.requires_python.strip()}; target is {python_version}"
            return Rejection(link, reason, "requires-python")
    return Candidate(
        name=project,
        version=version,
        link=link,
        kind="sdist" if wheel_tags is None else "wheel",
        tag_priority=priority,
    )
