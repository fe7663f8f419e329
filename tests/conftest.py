"""Fixtures shared across the suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pipwise.net.http import HttpFetcher


@pytest.fixture
def fetcher() -> Iterator[HttpFetcher]:
    """A real HTTP fetcher that fails fast (no retries), closed after the test."""
    with HttpFetcher(timeout=5, retries=0) as fetcher:
        yield fetcher
