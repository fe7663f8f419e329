"""Builds the collaborators a command needs (settings, target, HTTP, finder, preparer) once,
from the environment and command-line options, so commands stay thin and tests can swap parts."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from pipwise.config import Settings, load_settings

if TYPE_CHECKING:
    from pipwise.index.finder import Finder
    from pipwise.net.http import HttpFetcher
    from pipwise.prepare import Preparer
    from pipwise.target import Target

__all__ = ["Session"]


class Session:
    """One run's shared state: settings are read once, the HTTP pool is shared by all fetches."""

    def __init__(
        self,
        *,
        cli_settings: Mapping[str, object] | None = None,
        environ: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.cwd = cwd or Path.cwd()
        self._cli_settings = dict(cli_settings or {})

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Release pooled connections, background fetches and scratch directories."""
        if "preparer" in self.__dict__:
            self.preparer.close()
        if "fetcher" in self.__dict__:
            self.fetcher.close()

    @cached_property
    def settings(self) -> Settings:
        return load_settings(self._cli_settings, self.environ)

    @cached_property
    def cache_dir(self) -> Path | None:
        """The pipwise cache, or None with ``--no-cache-dir``."""
        if self.settings.no_cache:
            return None
        if self.settings.cache_dir:
            return Path(self.settings.cache_dir).expanduser()
        from platformdirs import user_cache_dir

        return Path(user_cache_dir("pipwise"))

    def target(self, python: str | None, *, system: bool = False) -> Target:
        """The interpreter to act on (``--python``, else the active venv, else ``.venv``)."""
        from pipwise.env.select import select_target

        return select_target(
            python, system=system, cwd=self.cwd, environ=self.environ, cache_dir=self.cache_dir
        )

    @cached_property
    def fetcher(self) -> HttpFetcher:
        from pipwise.net.http import HttpFetcher

        s = self.settings
        return HttpFetcher(
            cert=s.cert,
            client_cert=s.client_cert,
            timeout=s.timeout,
            retries=s.retries,
            trusted_hosts=s.trusted_hosts,
            proxy=s.proxy,
        )

    def finder(
        self,
        target: Target,
        *,
        index_urls: Sequence[str] | None = None,
        find_links: Sequence[str] = (),
    ) -> Finder:
        """A finder for ``target``'s tags and Python version over the configured indexes."""
        from packaging.version import Version

        from pipwise.index.finder import Finder

        s = self.settings
        return Finder(
            self.fetcher,
            index_urls=list(s.index_urls if index_urls is None else index_urls),
            find_links=[*s.find_links, *find_links],
            tags=target.tags,
            # The release, as pip compares it: a 3.13.0rc1 interpreter satisfies >=3.13.
            python_version=Version(".".join(map(str, target.version))),
            index_strategy=s.index_strategy,
        )

    @cached_property
    def preparer(self) -> Preparer:
        from pipwise.prepare import Preparer

        return Preparer(self.fetcher, self.cache_dir)
