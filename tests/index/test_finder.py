"""The finder over real local indexes: ordering, index strategies, find-links and memoizing."""

from __future__ import annotations

import platform
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from packaging.tags import Tag, sys_tags
from packaging.version import Version

from pipwise.errors import DiagnosticError
from pipwise.index.finder import Finder, IndexStrategy
from pipwise.net.http import HttpFetcher
from tests.support.index_server import Annotation, IndexServer
from tests.support.wheels import WheelSpec, build_sdist, build_wheel

TAGS = (
    Tag("cp311", "cp311", "manylinux_2_17_x86_64"),
    Tag("cp311", "none", "any"),
    Tag("py3", "none", "any"),
)


def make_finder(
    fetcher: HttpFetcher,
    index_urls: Sequence[str],
    find_links: Sequence[str] = (),
    strategy: IndexStrategy = "first-index",
) -> Finder:
    return Finder(
        fetcher,
        index_urls=index_urls,
        find_links=find_links,
        tags=TAGS,
        python_version=Version("3.11.7"),
        index_strategy=strategy,
    )


@pytest.fixture
def private(tmp_path: Path) -> Iterator[IndexServer]:
    files = tmp_path / "private"
    build_wheel(WheelSpec("demo", "1.0"), files)
    with IndexServer(files) as server:
        yield server


@pytest.fixture
def public(tmp_path: Path) -> Iterator[IndexServer]:
    files = tmp_path / "public"
    build_wheel(WheelSpec("demo", "9.0"), files)
    build_wheel(WheelSpec("other", "1.0"), files)
    with IndexServer(files) as server:
        yield server


def describe(finder: Finder, name: str) -> list[str]:
    return [c.link.filename for c in finder.find(name).candidates]


def test_candidates_are_ordered_best_first_with_reasons_for_the_rest(
    fetcher: HttpFetcher, tmp_path: Path
) -> None:
    files = tmp_path / "files"
    build_wheel(WheelSpec("demo", "1.0"), files)
    build_sdist("demo", "2.0", files)
    build_wheel(WheelSpec("demo", "2.0"), files)
    build_wheel(WheelSpec("demo", "2.0", tag="cp311-cp311-manylinux_2_17_x86_64"), files)
    build_wheel(WheelSpec("demo", "2.0", tag="cp311-cp311-win_amd64"), files)
    build_wheel(WheelSpec("demo", "3.0"), files)
    annotations: dict[str, Annotation] = {
        "demo-3.0-py3-none-any.whl": {"requires_python": ">=3.12"}
    }
    with IndexServer(files, annotations=annotations) as server:
        result = make_finder(fetcher, [server.index_url]).find("Demo")
    assert [c.link.filename for c in result.candidates] == [
        "demo-2.0-cp311-cp311-manylinux_2_17_x86_64.whl",
        "demo-2.0-py3-none-any.whl",
        "demo-2.0.tar.gz",
        "demo-1.0-py3-none-any.whl",
    ]
    reasons = {r.link.filename: (r.category, r.reason) for r in result.rejections}
    assert reasons["demo-3.0-py3-none-any.whl"] == (
        "requires-python",
        "requires Python >=3.12; target is 3.11.7",
    )
    assert reasons["demo-2.0-cp311-cp311-win_amd64.whl"][0] == "tags"
    assert result.index_url == server.index_url
    assert result.sources == (f"{server.index_url}/demo/",)


def test_first_index_is_not_shadowed_by_a_later_index(
    fetcher: HttpFetcher, private: IndexServer, public: IndexServer
) -> None:
    finder = make_finder(fetcher, [private.index_url, public.index_url])
    result = finder.find("demo")
    assert [str(c.version) for c in result.candidates] == ["1.0"]
    assert result.index_url == private.index_url
    assert "/simple/demo/" not in public.requests
    other = finder.find("other")  # the private index has no such project
    assert other.index_url == public.index_url
    assert len(other.sources) == 2


def test_unsafe_best_match_merges_every_index(
    fetcher: HttpFetcher, private: IndexServer, public: IndexServer
) -> None:
    urls = [private.index_url, public.index_url]
    finder = make_finder(fetcher, urls, strategy="unsafe-best-match")
    assert [str(c.version) for c in finder.find("demo").candidates] == ["9.0", "1.0"]


def test_find_links_are_merged_without_foreign_rejections(
    fetcher: HttpFetcher, private: IndexServer, tmp_path: Path
) -> None:
    links = tmp_path / "links"
    build_wheel(WheelSpec("demo", "1.5"), links)
    build_wheel(WheelSpec("unrelated", "1.0"), links)
    (links / "README.txt").write_text("not a distribution")
    finder = make_finder(fetcher, [private.index_url], find_links=[str(links)])
    result = finder.find("demo")
    assert [str(c.version) for c in result.candidates] == ["1.5", "1.0"]
    assert result.rejections == ()
    assert result.sources[-1] == str(links)
    no_index = make_finder(fetcher, [], find_links=[links.as_uri()]).find("demo")
    assert [str(c.version) for c in no_index.candidates] == ["1.5"]
    assert no_index.index_url is None


def test_results_are_memoized_across_threads(fetcher: HttpFetcher, private: IndexServer) -> None:
    finder = make_finder(fetcher, [private.index_url])
    threads = [threading.Thread(target=finder.find, args=("demo",)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert finder.find("DEMO") is finder.find("demo")
    assert private.requests.count("/simple/demo/") == 1


def test_index_errors_surface_from_find_and_are_remembered(
    fetcher: HttpFetcher, private: IndexServer
) -> None:
    private.fail("/simple/demo/", 500)
    finder = make_finder(fetcher, [private.index_url])
    for _ in range(2):
        with pytest.raises(DiagnosticError, match="index-http-error"):
            finder.find("demo")
    assert private.requests.count("/simple/demo/") == 1


MACHINE_INDEX = Path("/opt/pypi/simple")


@pytest.mark.skipif(not (MACHINE_INDEX / "requests").is_dir(), reason="no machine index")
def test_machine_index_offers_requests(fetcher: HttpFetcher) -> None:
    finder = Finder(
        fetcher,
        index_urls=[MACHINE_INDEX.as_uri()],
        find_links=[],
        tags=tuple(sys_tags()),
        python_version=Version(platform.python_version()),
    )
    result = finder.find("requests")
    assert result.candidates
    best = result.candidates[0]
    assert (best.kind, best.link.is_file_url) == ("wheel", True)
    assert set(best.link.hashes) == {"sha256"}
