"""Preparing candidates: PEP 658 metadata, local and cached wheels, and honest refusals."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from pipwise.dists import Candidate, Link
from pipwise.errors import DiagnosticError
from pipwise.index.collector import collect_project
from pipwise.net.http import HttpFetcher
from pipwise.prepare import Preparer
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec, build_sdist, build_wheel, sha256_of

WHEEL = "demo-1.0-py3-none-any.whl"


@pytest.fixture
def files(tmp_path: Path) -> Path:
    build_wheel(WheelSpec("demo", "1.0", requires=["idna>=3"], requires_python=">=3.8"), tmp_path)
    build_sdist("demo", "1.0", tmp_path)
    return tmp_path


@pytest.fixture
def preparer(fetcher: HttpFetcher, tmp_path: Path) -> Iterator[Preparer]:
    with Preparer(fetcher, tmp_path / "cache") as preparer:
        yield preparer


def wheel_candidate(link: Link) -> Candidate:
    return Candidate(canonicalize_name("demo"), Version("1.0"), link, "wheel", 0)


def served(fetcher: HttpFetcher, server: IndexServer, filename: str = WHEEL) -> Candidate:
    (link,) = [
        x for x in collect_project(fetcher, server.index_url, "demo") if x.filename == filename
    ]
    return wheel_candidate(link)


def local(path: Path, **fields: Any) -> Candidate:
    link = Link(url=path.as_uri(), filename=path.name, comes_from=path.parent.as_uri())
    return wheel_candidate(replace(link, **fields))


def test_pep_658_metadata_is_used_instead_of_the_wheel(
    fetcher: HttpFetcher, preparer: Preparer, files: Path
) -> None:
    with IndexServer(files, metadata=True) as server:
        candidate = served(fetcher, server)
        metadata = preparer.metadata(candidate)
    assert (metadata.name, metadata.version) == ("demo", Version("1.0"))
    assert [str(r) for r in metadata.requires_dist or []] == ["idna>=3"]
    assert f"/files/{WHEEL}.metadata" in server.requests
    assert f"/files/{WHEEL}" not in server.requests


def test_pep_658_metadata_hash_is_verified(
    fetcher: HttpFetcher, preparer: Preparer, files: Path
) -> None:
    with IndexServer(files, metadata=True) as server:
        link = served(fetcher, server).link
        bad = wheel_candidate(replace(link, metadata_hashes={"sha256": "00" * 32}))
        with pytest.raises(DiagnosticError) as caught:
            preparer.metadata(bad)
    assert caught.value.code == "hash-mismatch"
    assert caught.value.details["url"].endswith(f"{WHEEL}.metadata")


def test_metadata_falls_back_to_the_wheel_when_the_index_cannot_serve_it(
    fetcher: HttpFetcher, preparer: Preparer, files: Path
) -> None:
    with IndexServer(files) as server:
        link = served(fetcher, server).link
        advertised = wheel_candidate(replace(link, metadata_hashes={}))
        assert preparer.metadata(advertised).name == "demo"
    assert server.requests[-2:] == [f"/files/{WHEEL}.metadata", f"/files/{WHEEL}"]


def test_remote_wheels_are_cached_by_url_and_reused(
    fetcher: HttpFetcher, preparer: Preparer, files: Path, tmp_path: Path
) -> None:
    with IndexServer(files) as server:
        candidate = served(fetcher, server)
        assert preparer.metadata(candidate).version == Version("1.0")  # downloads the wheel
        path = preparer.wheel(candidate)
        assert path.parent.parent == tmp_path / "cache" / "wheels-v1"
        assert path.read_bytes() == (files / WHEEL).read_bytes()
        assert server.requests.count(f"/files/{WHEEL}") == 1
        path.write_bytes(b"damaged")
        with Preparer(fetcher, tmp_path / "cache") as next_run:
            assert next_run.wheel(candidate).read_bytes() == (files / WHEEL).read_bytes()
        assert server.requests.count(f"/files/{WHEEL}") == 2


def test_a_wheel_without_hashes_is_downloaded_once_per_run(
    fetcher: HttpFetcher, preparer: Preparer, files: Path
) -> None:
    with IndexServer(files) as server:
        candidate = wheel_candidate(replace(served(fetcher, server).link, hashes={}))
        threads = [threading.Thread(target=preparer.wheel, args=(candidate,)) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert preparer.metadata(candidate).name == "demo"
        assert preparer.wheel(candidate).read_bytes() == (files / WHEEL).read_bytes()
        assert server.requests.count(f"/files/{WHEEL}") == 1


def test_without_a_cache_dir_downloads_go_to_a_temporary_directory(
    fetcher: HttpFetcher, files: Path
) -> None:
    with IndexServer(files) as server, Preparer(fetcher, None) as preparer:
        path = preparer.wheel(served(fetcher, server))
        assert path.is_file()
    assert not path.exists()


def test_local_wheels_are_read_in_place(preparer: Preparer, files: Path) -> None:
    candidate = local(files / WHEEL, hashes={"sha256": sha256_of(files / WHEEL)})
    assert preparer.metadata(candidate).requires_python is not None
    assert preparer.wheel(candidate) == files / WHEEL
    with pytest.raises(DiagnosticError, match="hash-mismatch"):
        preparer.wheel(local(files / WHEEL, hashes={"sha256": "00" * 32}))
    for missing in (files / "demo-2.0-py3-none-any.whl", files / "gone" / WHEEL):
        for prepare in (preparer.wheel, preparer.metadata):
            with pytest.raises(DiagnosticError) as caught:
                prepare(local(missing))
            assert (caught.value.code, caught.value.kind) == ("local-file-not-found", "environment")
            assert caught.value.details["path"] == str(missing)


def test_a_local_wheel_that_cannot_be_read_is_diagnosed(preparer: Preparer, tmp_path: Path) -> None:
    (tmp_path / WHEEL).mkdir()
    for prepare in (preparer.wheel, preparer.metadata):
        with pytest.raises(DiagnosticError) as caught:
            prepare(local(tmp_path / WHEEL))
        assert caught.value.code == "local-file-unreadable"
        assert str(tmp_path / WHEEL) in caught.value.cause


def test_metadata_must_describe_the_candidate(preparer: Preparer, files: Path) -> None:
    renamed = files / "demo-1.0-py3-none-any.whl"
    impostor = Candidate(
        canonicalize_name("other"), Version("1.0"), local(renamed).link, "wheel", 0
    )
    with pytest.raises(DiagnosticError) as caught:
        preparer.metadata(impostor)
    assert (caught.value.code, caught.value.kind) == ("invalid-metadata", "integrity")
    assert "describes demo 1.0" in caught.value.cause


def test_metadata_without_a_version_is_invalid(preparer: Preparer, files: Path) -> None:
    (files / f"{WHEEL}.metadata").write_text("Metadata-Version: 2.1\nName: demo\n\n")
    with pytest.raises(DiagnosticError) as caught:
        preparer.metadata(local(files / WHEEL, metadata_hashes={}))
    assert caught.value.code == "invalid-metadata"
    assert "version" in caught.value.cause


def test_a_corrupt_wheel_is_diagnosed(preparer: Preparer, tmp_path: Path) -> None:
    broken = tmp_path / WHEEL
    broken.write_bytes(b"not a zip")
    with pytest.raises(DiagnosticError, match="invalid-wheel"):
        preparer.metadata(local(broken))


def test_sdists_are_refused_honestly(preparer: Preparer, files: Path) -> None:
    sdist = files / "demo-1.0.tar.gz"
    link = Link(url=sdist.as_uri(), filename=sdist.name, comes_from=files.as_uri())
    candidate = Candidate(canonicalize_name("demo"), Version("1.0"), link, "sdist")
    for prepare in (preparer.metadata, preparer.wheel):
        with pytest.raises(DiagnosticError) as caught:
            prepare(candidate)
        err = caught.value
        assert (err.code, err.kind) == ("source-build-unsupported", "build")
        assert "only as a source distribution" in err.cause
        assert "sdist demo-1.0.tar.gz" in err.evidence


def test_parsed_metadata_is_cached_by_content_hash_across_runs(
    fetcher: HttpFetcher, files: Path, tmp_path: Path
) -> None:
    with IndexServer(files, metadata=True) as server:
        candidate = served(fetcher, server)
        with Preparer(fetcher, tmp_path / "shared") as first:
            first.metadata(candidate)
        fetched = len(server.requests)
        with Preparer(fetcher, tmp_path / "shared") as second:
            metadata = second.metadata(candidate)
        assert len(server.requests) == fetched  # nothing asked of the index the second time
    assert [str(r) for r in metadata.requires_dist or []] == ["idna>=3"]


def test_cached_metadata_of_a_local_wheel_follows_the_file(files: Path, tmp_path: Path) -> None:
    wheel = files / WHEEL
    with HttpFetcher() as fetcher, Preparer(fetcher, tmp_path / "shared") as first:
        assert [str(r) for r in first.metadata(local(wheel)).requires_dist or []] == ["idna>=3"]
    build_wheel(WheelSpec("demo", "1.0", requires=["rich"]), files)  # rebuilt in place
    os.utime(wheel, ns=(wheel.stat().st_atime_ns, wheel.stat().st_mtime_ns + 10**9))
    with HttpFetcher() as fetcher, Preparer(fetcher, tmp_path / "shared") as second:
        assert [str(r) for r in second.metadata(local(wheel)).requires_dist or []] == ["rich"]


_FORMAT = b'{"format": "pipwise-raw-metadata-1", "raw": %s}'


@pytest.mark.parametrize(
    "entry",
    [
        _FORMAT % b"[]",
        _FORMAT % b'{"name": 1, "version": "1.0"}',
        _FORMAT % b'{"name": "demo", "version": "1.0", "requires_dist": "idna"}',
        _FORMAT % b'{"name": "other", "version": "1.0"}',
        _FORMAT % b'{"name": "demo", "version": "9.9"}',
        # Not written by this code (an older layout, or another tool's file):
        b'{"name": "demo", "version": "1.0", "requires_dist": []}',
        b'{"format": "pipwise-raw-metadata-1", "raw": {"name": "demo", "versi',
    ],
)
def test_a_bad_metadata_cache_entry_is_read_again_and_replaced(
    files: Path, tmp_path: Path, entry: bytes
) -> None:
    wheel = local(files / WHEEL)
    with HttpFetcher() as fetcher, Preparer(fetcher, tmp_path / "shared") as first:
        first.metadata(wheel)
    (cached,) = (tmp_path / "shared" / "metadata-v1").iterdir()
    cached.write_bytes(entry)
    with HttpFetcher() as fetcher, Preparer(fetcher, tmp_path / "shared") as second:
        assert [str(r) for r in second.metadata(wheel).requires_dist or []] == ["idna>=3"]
    assert json.loads(cached.read_bytes())["raw"]["requires_dist"] == ["idna>=3"]
