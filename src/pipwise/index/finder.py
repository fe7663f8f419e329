"""Find the installable files of a project across indexes and find-links, with the reasons
for every file left out."""

from __future__ import annotations

import difflib
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Self, TypeVar

from packaging.tags import Tag
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from pipwise.config import IndexStrategy
from pipwise.dists import Candidate, Link, Rejection
from pipwise.index.collector import collect_find_links, collect_project, project_url
from pipwise.index.evaluator import evaluate
from pipwise.net.http import Fetcher, redact_url

__all__ = ["FindResult", "Finder", "IndexStrategy"]


_K = TypeVar("_K")
_V = TypeVar("_V")

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
        max_workers: int = 16,
    ) -> None:
        self._fetcher = fetcher
        self._index_urls = tuple(index_urls)
        self._find_links = tuple(find_links)
        self._tags = tuple(tags)
        self._python_version = python_version
        self._strategy = index_strategy
        self._max_workers = max_workers
        self._lock = threading.Lock()
        self._results: dict[NormalizedName, Future[FindResult]] = {}
        self._locations: dict[str, Future[list[Link]]] = {}
        self._executor: ThreadPoolExecutor | None = None
        #: Whether every index and find-links location is on this machine (nothing to overlap).
        self.is_local = all(url.startswith("file:") for url in self._index_urls) and all(
            "://" not in location or location.startswith("file:") for location in self._find_links
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop prefetching; lookups not yet started are cancelled."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)

    def find(self, name: str) -> FindResult:
        """The files of ``name``, evaluated for the target (memoized; safe from any thread)."""
        key = canonicalize_name(name)
        return self._memoized(self._results, key, lambda: self._find(key))

    def prefetch(self, names: Iterable[str]) -> None:
        """Start fetching the pages of ``names`` in the background; `find` then waits only for
        what is still in flight.

        Local indexes are not prefetched: reading and parsing a file is CPU work, which a
        thread only makes wait for the GIL; network fetches are where overlap pays.
        """
        if self.is_local:
            return
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self._max_workers, "pipwise-finder")
            for key in map(canonicalize_name, names):
                if key not in self._results:
                    self._results[key] = self._executor.submit(self._find, key)

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
            found = self._memoized(
                self._locations, location, partial(collect_find_links, self._fetcher, location)
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
                link, name=name, tags=self._tags, python_version=self._python_version
            )
            if isinstance(verdict, Candidate):
                candidates.append(verdict)
            elif from_index or verdict.category not in _FOREIGN:
                rejections.append(verdict)
        candidates.sort(key=_sort_key, reverse=True)
        return FindResult(name, tuple(candidates), tuple(rejections), served_by, tuple(sources))

    def _memoized(self, table: dict[_K, Future[_V]], key: _K, compute: Callable[[], _V]) -> _V:
        """``compute()`` once per key, even when several threads ask at the same time."""
        with self._lock:
            future = table.get(key)
            owner = future is None
            if future is None:
                future = table[key] = Future()
        if owner:
            try:
                future.set_result(compute())
            except BaseException as exc:
                future.set_exception(exc)
        return future.result()
