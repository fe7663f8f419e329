"""Find the installable files of a project across indexes and find-links, with the reasons
for every file left out."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from packaging.tags import Tag
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from pipwise.config import IndexStrategy
from pipwise.dists import Candidate, Link, Rejection
from pipwise.index.collector import collect_find_links, collect_project, project_url
from pipwise.index.evaluator import evaluate, tag_ranks
from pipwise.memo import Once
from pipwise.net.http import Fetcher, redact_url

__all__ = ["FindResult", "Finder", "IndexStrategy"]

#: Find-links directories hold every project's files; these say only "not this project".
_FOREIGN = frozenset({"name-mismatch", "invalid-filename"})


@dataclass(frozen=True, slots=True)
class FindResult:
    """Everything known about one project's files."""

    name: NormalizedName
    #: Best first: newest version, then wheels by tag priority, then the sdist.
    candidates: tuple[Candidate, ...]
    rejections: tuple[Rejection, ...]
    #: The index that served the project (the first with files, in either strategy);
    #: None when only find-links had it, or nothing did.
    index_url: str | None
    #: Every page and location consulted, credentials redacted.
    sources: tuple[str, ...]


def _sort_key(candidate: Candidate) -> tuple[Version, bool, int]:
    # Sorted in reverse: higher version, then wheel over sdist, then lower tag priority.
    return candidate.version, candidate.kind == "wheel", -(candidate.tag_priority or 0)


#: A project anchor on a PEP 503 root page: ``<a href="name/">name</a>``.
_ROOT_ANCHOR = re.compile(r"<a\s[^>]*>\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*</a>", re.IGNORECASE)


class Finder:
    """Looks projects up on the indexes and find-links locations, memoizing per name.

    With ``first-index`` the indexes are asked in order and the first that lists any file for
    the name is the only one used, so an extra index cannot shadow a private package (the
    dependency-confusion attack); ``unsafe-best-match`` merges all of them, as pip does.
    Find-links locations are always merged in. ``index_urls=[]`` is ``--no-index``.
    """

    def __init__(
        self,
        fetcher: Fetcher,
        *,
        index_urls: Sequence[str],
        find_links: Sequence[str],
        tags: Sequence[Tag],
        python_version: Version,
        index_strategy: IndexStrategy = "first-index",
    ) -> None:
        self._fetcher = fetcher
        self._index_urls = tuple(index_urls)
        self._find_links = tuple(find_links)
        self._tags = tuple(tags)
        self._ranks = tag_ranks(self._tags)
        self._python_version = python_version
        self._strategy = index_strategy
        self._results: Once[NormalizedName, FindResult] = Once()
        self._locations: Once[str, list[Link]] = Once()
        #: Whether every index and find-links location is on this machine (nothing to overlap).
        self.is_local = all(url.startswith("file:") for url in self._index_urls) and all(
            "://" not in location or location.startswith("file:") for location in self._find_links
        )

    def find(self, name: str) -> FindResult:
        """The files of ``name``, evaluated for the target (memoized; safe from any thread)."""
        key = canonicalize_name(name)
        return self._results.get(key, partial(self._find, key))

    def similar_names(self, name: str, limit: int = 3) -> list[str]:
        """Project names close to ``name`` on indexes whose project list is cheap to read.

        Only local (``file://``) indexes are listed: a remote root page can hold hundreds of
        thousands of names. Every name returned exists on a configured index.
        """
        names: set[str] = set()
        for index_url in self._index_urls:
            if not index_url.startswith("file:"):
                continue
            response = self._fetcher.get(index_url.rstrip("/") + "/")
            if response.ok:
                text = response.body.decode("utf-8", "replace")
                names |= {canonicalize_name(m) for m in _ROOT_ANCHOR.findall(text)}
        return difflib.get_close_matches(canonicalize_name(name), sorted(names), limit, 0.8)

    def _find(self, name: NormalizedName) -> FindResult:
        sources: list[str] = []
        links: list[Link] = []
        served_by = None
        for index_url in self._index_urls:
            sources.append(redact_url(project_url(index_url, name)))
            found = collect_project(self._fetcher, index_url, name)
            if found:
                served_by = served_by or index_url
                links += found
                if self._strategy == "first-index":
                    break
        sources += map(redact_url, self._find_links)
        offered = [(link, True) for link in links]
        for location in self._find_links:
            found = self._locations.get(
                location, partial(collect_find_links, self._fetcher, location)
            )
            offered += [(link, False) for link in found]
        candidates: list[Candidate] = []
        rejections: list[Rejection] = []
        seen: set[str] = set()
        for link, from_index in offered:
            if link.url in seen:
                continue
            seen.add(link.url)
            verdict = evaluate(
                link,
                name=name,
                tags=self._tags,
                python_version=self._python_version,
                ranks=self._ranks,
            )
            if isinstance(verdict, Candidate):
                candidates.append(verdict)
            elif from_index or verdict.category not in _FOREIGN:
                rejections.append(verdict)
        candidates.sort(key=_sort_key, reverse=True)
        return FindResult(name, tuple(candidates), tuple(rejections), served_by, tuple(sources))
