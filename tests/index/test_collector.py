"""Parsing PEP 503 HTML and PEP 691 JSON pages, over HTTP, from files, and from find-links."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipwise.dists import Link
from pipwise.errors import DiagnosticError
from pipwise.index.collector import (
    collect_find_links,
    collect_project,
    link_filename,
    parse_html,
    parse_json,
    project_url,
    split_hash_fragment,
)
from pipwise.net.http import HttpFetcher
from tests.support.index_server import Annotation, IndexServer, write_simple_index
from tests.support.wheels import WheelSpec, build_sdist, build_wheel, sha256_of

PAGE = "https://u:secret@example.org/simple/demo/"


@pytest.fixture
def dists(tmp_path: Path) -> Path:
    files = tmp_path / "files"
    build_wheel(WheelSpec("demo", "1.0"), files)
    build_wheel(WheelSpec("demo", "2.0", requires_python=">=3.12"), files)
    build_sdist("demo", "2.0", files)
    return files


ANNOTATIONS: dict[str, Annotation] = {
    "demo-2.0-py3-none-any.whl": {"requires_python": ">=3.12"},
    "demo-1.0-py3-none-any.whl": {"yanked": "broken build"},
}


@pytest.fixture
def index(dists: Path) -> Iterator[IndexServer]:
    with IndexServer(dists, annotations=ANNOTATIONS, metadata=True) as server:
        yield server


def by_name(links: list[Link]) -> dict[str, Link]:
    return {link.filename: link for link in links}


def test_project_url_normalizes_the_name() -> None:
    assert project_url("https://example.org/simple", "Foo_Bar") == (
        "https://example.org/simple/foo-bar/"
    )
    assert project_url("file:///opt/pypi/simple/", "x.y") == "file:///opt/pypi/simple/x-y/"


def test_parse_html_reads_pep_503_and_658_attributes() -> None:
    html = """<!DOCTYPE html><html><head><base href="/mirror/"></head><body>
    <a href="../files/demo-1.0.tar.gz#sha256=ABCD">demo-1.0.tar.gz</a>
    <a href="files/demo-2.0-py3-none-any.whl#sha256=ef01" data-requires-python="&gt;=3.8,&lt;4"
       data-yanked="bad &amp; broken" data-dist-info-metadata="sha256=0000"
       data-core-metadata="sha256=1111">demo-2.0</a>
    <a href="https://cdn.example.org/demo%2Bx-3.0-py3-none-any.whl" data-yanked
       data-dist-info-metadata="true">x</a>
    <a name="no-href">nothing</a>
    </body></html>"""
    links = parse_html(html, PAGE)
    assert [link.url for link in links] == [
        "https://u:secret@example.org/files/demo-1.0.tar.gz",
        "https://u:secret@example.org/mirror/files/demo-2.0-py3-none-any.whl",
        "https://cdn.example.org/demo%2Bx-3.0-py3-none-any.whl",
    ]
    sdist, wheel, other = links
    assert sdist.hashes == {"sha256": "abcd"}
    assert (sdist.yanked, sdist.requires_python, sdist.metadata_hashes) == (None, None, None)
    assert sdist.comes_from == "https://u:****@example.org/simple/demo/"
    assert wheel.requires_python == ">=3.8,<4"
    assert wheel.yanked == "bad & broken"
    assert wheel.metadata_hashes == {"sha256": "1111"}  # PEP 714: core-metadata wins
    assert other.filename == "demo+x-3.0-py3-none-any.whl"
    assert (other.yanked, other.metadata_hashes, other.hashes) == ("", {}, {})


def test_parse_json_treats_null_fields_as_absent() -> None:
    body = json_page(
        hashes=None, **{"requires-python": None, "core-metadata": None, "upload-time": None}
    )
    (link,) = parse_json(body, PAGE)
    assert (link.hashes, link.requires_python, link.metadata_hashes) == ({}, None, None)


def test_parse_json_reads_pep_691_files() -> None:
    page = {
        "meta": {"api-version": "1.1"},
        "name": "demo",
        "files": [
            {
                "filename": "demo-1.0.tar.gz",
                "url": "../../files/demo-1.0.tar.gz",
                "hashes": {"sha256": "AB"},
                "requires-python": ">=3.8",
                "yanked": "security issue",
                "core-metadata": False,
                "size": 10,
                "upload-time": "2024-01-01T00:00:00Z",
            },
            {
                "filename": "demo-2.0-py3-none-any.whl",
                "url": "https://cdn.example.org/demo-2.0-py3-none-any.whl",
                "hashes": {},
                "yanked": True,
                "dist-info-metadata": {"sha256": "CD"},
            },
            {"filename": "demo-3.0.zip", "url": "demo-3.0.zip", "hashes": {}, "yanked": ""},
        ],
    }
    first, second, third = parse_json(json.dumps(page).encode(), PAGE)
    assert first.url == "https://u:secret@example.org/files/demo-1.0.tar.gz"
    assert first.hashes == {"sha256": "ab"}
    assert (first.requires_python, first.yanked, first.metadata_hashes) == (
        ">=3.8",
        "security issue",
        None,
    )
    assert (first.size, first.upload_time) == (10, "2024-01-01T00:00:00Z")
    assert (second.yanked, second.metadata_hashes) == ("", {"sha256": "cd"})
    assert third.url == "https://u:secret@example.org/simple/demo/demo-3.0.zip"
    assert third.yanked is None


def test_split_hash_fragment_reads_only_hash_fragments() -> None:
    url = "https://example.org/files/demo-1.0.tar.gz"
    assert split_hash_fragment(f"{url}#SHA256=AbC1") == (url, {"sha256": "abc1"})
    assert split_hash_fragment(f"{url}#md5=00ff") == (url, {"md5": "00ff"})
    assert split_hash_fragment(f"{url}#egg=cafe") == (url, {})  # hex-looking, but not a hash
    assert split_hash_fragment(f"{url}#sha256=Not-Hex") == (url, {"sha256": "not-hex"})
    assert split_hash_fragment(f"{url}#nosuchhash=ab") == (url, {})
    assert split_hash_fragment(url) == (url, {})


def test_link_filename_is_the_unquoted_last_segment() -> None:
    assert link_filename("https://h/files/demo%2Bx-1.0.tar.gz?x=1#sha256=ab") == (
        "demo+x-1.0.tar.gz"
    )
    assert link_filename("file:///srv/wheels/demo-1.0-py3-none-any.whl") == (
        "demo-1.0-py3-none-any.whl"
    )


def json_page(**entry: object) -> bytes:
    file = {"filename": "demo-1.0.tar.gz", "url": "demo-1.0.tar.gz", **entry}
    return json.dumps({"meta": {"api-version": "1.0"}, "files": [file]}).encode()


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"<html>", "not JSON"),
        (b'{"meta": {"api-version": "1.0"}}', 'no "files" list'),
        (b'{"meta": {"api-version": "2.0"}, "files": []}', "API version 2.0"),
        (b'{"meta": [], "files": []}', '"meta" is [], not an object'),
        (b'{"files": ["demo-1.0.tar.gz"]}', "file entry without a URL"),
        (json_page(hashes=["x"]), "'hashes' of demo-1.0.tar.gz is [\"x\"]"),
        (json_page(hashes={"sha256": 1}), "'hashes' of demo-1.0.tar.gz is {\"sha256\": 1}"),
        (json_page(yanked=1), "'yanked'"),
        (json_page(size="10"), "'size'"),
        (json_page(size=True), "'size'"),
        (json_page(**{"requires-python": 3}), "'requires-python'"),
        (json_page(**{"core-metadata": "sha256=ab"}), "'core-metadata'"),
        (json_page(**{"dist-info-metadata": {"sha256": None}}), "'dist-info-metadata'"),
    ],
)
def test_invalid_json_pages_are_diagnosed(body: bytes, problem: str) -> None:
    with pytest.raises(DiagnosticError) as caught:
        parse_json(body, PAGE)
    assert caught.value.code == "index-invalid-response"
    assert problem in caught.value.cause
    assert "secret" not in caught.value.cause


@pytest.mark.parametrize("form", ["json", "html", "negotiated"])
def test_collect_project_over_http(fetcher: HttpFetcher, index: IndexServer, form: str) -> None:
    url = {
        "json": index.json_index_url,
        "html": index.html_index_url,
        "negotiated": index.index_url,
    }[form]
    links = by_name(collect_project(fetcher, url, "Demo"))
    assert sorted(links) == [
        "demo-1.0-py3-none-any.whl",
        "demo-2.0-py3-none-any.whl",
        "demo-2.0.tar.gz",
    ]
    wheel = links["demo-2.0-py3-none-any.whl"]
    assert wheel.url == f"{index.url}/files/demo-2.0-py3-none-any.whl"
    assert wheel.hashes == {"sha256": sha256_of(index.directory / wheel.filename)}
    assert wheel.requires_python == ">=3.12"
    assert wheel.metadata_hashes is not None and "sha256" in wheel.metadata_hashes
    assert links["demo-1.0-py3-none-any.whl"].yanked == "broken build"
    assert links["demo-2.0.tar.gz"].metadata_hashes is None
    assert links["demo-2.0.tar.gz"].yanked is None
    assert (wheel.size is not None) == (form != "html")  # only PEP 691 JSON gives sizes


def test_missing_project_is_empty(fetcher: HttpFetcher, index: IndexServer) -> None:
    assert collect_project(fetcher, index.index_url, "nothing-here") == []


@pytest.mark.parametrize(
    ("status", "code"), [(500, "index-http-error"), (403, "index-auth-required")]
)
def test_http_errors_are_diagnosed(
    fetcher: HttpFetcher, index: IndexServer, status: int, code: str
) -> None:
    index.fail("/simple/demo/", status)
    with pytest.raises(DiagnosticError) as caught:
        collect_project(fetcher, index.index_url.replace("://", "://me:pw@"), "demo")
    assert (caught.value.code, caught.value.kind) == (code, "network")
    assert "me:****@" in caught.value.cause


def test_file_index_shaped_like_the_machine_index(fetcher: HttpFetcher, dists: Path) -> None:
    index_url = write_simple_index(dists.parent, annotations=ANNOTATIONS)
    links = by_name(collect_project(fetcher, index_url, "demo"))
    wheel = links["demo-2.0-py3-none-any.whl"]
    assert wheel.url == (dists / wheel.filename).as_uri()
    assert wheel.comes_from == f"{index_url}/demo/"
    assert wheel.hashes == {"sha256": sha256_of(dists / wheel.filename)}
    assert wheel.requires_python == ">=3.12"
    assert collect_project(fetcher, index_url, "absent") == []


def test_file_index_pages_holding_json_are_sniffed(fetcher: HttpFetcher, tmp_path: Path) -> None:
    page = tmp_path / "simple" / "demo"
    page.mkdir(parents=True)
    files = [{"filename": "demo-1.0.tar.gz", "url": "demo-1.0.tar.gz", "hashes": {}}]
    (page / "index.html").write_text(json.dumps({"meta": {"api-version": "1.0"}, "files": files}))
    (link,) = collect_project(fetcher, (tmp_path / "simple").as_uri(), "demo")
    assert link.url == (page / "demo-1.0.tar.gz").as_uri()


def test_find_links_directory_as_path_or_url(fetcher: HttpFetcher, dists: Path) -> None:
    (dists / "sub").mkdir()
    expected = sorted(p.name for p in dists.iterdir() if p.is_file())
    for location in (str(dists), dists.as_uri()):
        links = collect_find_links(fetcher, location)
        assert [link.filename for link in links] == expected
        assert links[0].url == (dists / expected[0]).as_uri()
        assert links[0].comes_from == dists.as_uri()


def test_find_links_html_pages(fetcher: HttpFetcher, index: IndexServer, tmp_path: Path) -> None:
    page = tmp_path / "links.html"
    page.write_text('<a href="files/demo-1.0-py3-none-any.whl">demo</a>')
    (local,) = collect_find_links(fetcher, str(page))
    assert local.url == (tmp_path / "files" / "demo-1.0-py3-none-any.whl").as_uri()
    remote = collect_find_links(fetcher, f"{index.html_index_url}/demo/")
    assert len(remote) == 3


def test_missing_find_links_directory_is_skipped_with_a_warning(
    fetcher: HttpFetcher, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        assert collect_find_links(fetcher, str(tmp_path / "gone")) == []
    assert "does not exist" in caplog.text
