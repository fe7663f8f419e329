"""pip's installation report: its shape, PEP 566 metadata JSON, download info, writing it."""

from __future__ import annotations

import email
import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.metadata import Metadata
from packaging.tags import sys_tags
from packaging.version import Version

from pipwise import __version__
from pipwise.dists import Candidate, DirectUrl, Link, Pin
from pipwise.errors import DiagnosticError
from pipwise.index.finder import Finder
from pipwise.install.report import (
    download_info,
    dumps_report,
    installation_report,
    metadata_to_json,
    report_item,
    write_report,
)
from pipwise.net.http import HttpFetcher
from pipwise.prepare import Preparer
from tests.support.index_server import IndexServer, wheel_metadata
from tests.support.wheels import WheelSpec, build_wheel


@dataclass
class RichSpec(WheelSpec):
    """A wheel whose METADATA has more headers and a description body."""

    headers: Sequence[str] = ()
    body: str = ""

    def metadata(self) -> str:
        head = super().metadata().rstrip("\n") + "\n"
        return head + "".join(f"{h}\n" for h in self.headers) + "\n" + self.body


RICH = RichSpec(
    "Rich-Meta",
    "1.0",
    requires=["lib>=1.0", 'extra-dep>=2; extra == "cli"'],
    requires_python=">=3.8",
    extras=["cli"],
    headers=[
        "Keywords: fast, json,cli",
        "Home-page: https://example.org",
        "Author: A. Author",
        "Author-email: a@example.org",
        "License: MIT",
        "Platform: any",
        "Classifier: Programming Language :: Python :: 3",
        "Classifier: License :: OSI Approved :: MIT License",
        "Project-URL: Homepage, https://example.org",
        "Project-URL: Issues, https://example.org/issues",
        "Description-Content-Type: text/markdown",
    ],
    body="# Rich Meta\n\nA long description,\nover several lines.\n",
)

#: This interpreter's marker environment, as a target's markers are typed.
MARKERS = {key: str(value) for key, value in default_environment().items()}

#: pip's documented fields (https://pip.pypa.io/en/stable/reference/installation-report/).
REPORT_KEYS = {"version", "pip_version", "install", "environment"}
ITEM_KEYS = {"download_info", "is_direct", "is_yanked", "requested", "metadata"}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("report-files")
    build_wheel(RICH, directory)
    build_wheel(WheelSpec("lib", "1.0"), directory)
    return directory


@pytest.fixture(scope="module")
def index(files: Path) -> Iterator[IndexServer]:
    with IndexServer(files, metadata=True) as server:
        yield server


@pytest.fixture
def preparer(tmp_path: Path) -> Iterator[Preparer]:
    with HttpFetcher(timeout=5, retries=0) as fetcher, Preparer(fetcher, tmp_path) as prep:
        yield prep


def found(index: IndexServer, name: str) -> Candidate:
    """The candidate a real finder picks from the real index."""
    with HttpFetcher(timeout=5, retries=0) as fetcher:
        finder = Finder(
            fetcher,
            index_urls=[index.index_url],
            find_links=[],
            tags=list(sys_tags()),
            python_version=Version("3.11"),
        )
        return finder.find(name).candidates[0]


def pin_of(candidate: Candidate, **kwargs: object) -> Pin:
    return Pin(candidate.name, candidate.version, candidate, **kwargs)  # type: ignore[arg-type]


def test_report_has_pips_documented_shape(
    index: IndexServer, files: Path, preparer: Preparer
) -> None:
    rich, lib = found(index, "rich-meta"), found(index, "lib")
    markers = {**MARKERS, "extra": ""}
    items = [
        report_item(
            pin_of(rich, requested=True, extras=frozenset({"cli"})),
            preparer.metadata(rich),
            requested_extras={"cli"},
        ),
        report_item(pin_of(lib), preparer.metadata(lib), requested_extras={"unused"}),
    ]

    report = json.loads(dumps_report(installation_report(items, markers)))

    assert set(report) == REPORT_KEYS
    assert report["version"] == "1"
    assert report["pip_version"] == __version__
    assert report["environment"] == MARKERS  # no "extra" key, strings only
    first, second = report["install"]
    assert set(first) == ITEM_KEYS | {"requested_extras"}
    assert set(second) == ITEM_KEYS  # extras only for what the user requested
    assert first["requested_extras"] == ["cli"]
    assert (first["requested"], second["requested"]) == (True, False)
    assert first["is_direct"] is False and first["is_yanked"] is False
    digest = hashlib.sha256((files / RICH.filename).read_bytes()).hexdigest()
    assert first["download_info"] == {
        "url": f"{index.url}/files/{RICH.filename}",
        "archive_info": {"hashes": {"sha256": digest}, "hash": f"sha256={digest}"},
    }
    assert first["metadata"]["name"] == "Rich-Meta"
    assert first["metadata"]["version"] == "1.0"
    assert second["metadata"] == {
        "metadata_version": "2.1",
        "name": "lib",
        "version": "1.0",
        "summary": "A test package",
    }


def test_metadata_json_matches_pips_conversion(
    index: IndexServer, files: Path, preparer: Preparer
) -> None:
    pip_json = pytest.importorskip("pip._internal.metadata._json")
    candidate = found(index, "rich-meta")
    metadata = preparer.metadata(candidate)  # through PEP 658, as the resolver reads it
    # The resolver has read some fields already; they must still be reported.
    assert metadata.requires_dist is not None and metadata.requires_python is not None

    ours = metadata_to_json(metadata)

    message = email.message_from_bytes(wheel_metadata(files / RICH.filename))
    assert ours == pip_json.msg_to_json(message)
    assert ours["classifier"] == [
        "Programming Language :: Python :: 3",
        "License :: OSI Approved :: MIT License",
    ]
    assert ours["requires_dist"] == ["lib>=1.0", 'extra-dep>=2; extra == "cli"']
    assert ours["project_url"] == [
        "Homepage, https://example.org",
        "Issues, https://example.org/issues",
    ]
    assert ours["provides_extra"] == ["cli"]
    assert ours["platform"] == ["any"]
    assert ours["keywords"] == ["fast", "json", "cli"]
    assert ours["description"] == "# Rich Meta\n\nA long description,\nover several lines.\n"
    assert ours["requires_python"] == ">=3.8"


@pytest.mark.parametrize(
    ("keywords", "expected"),
    [
        ("one", ["one"]),
        ("alpha beta  gamma", ["alpha", "beta", "gamma"]),  # no comma: split on whitespace
        ("alpha beta, gamma", ["alpha beta", "gamma"]),  # a comma: split only on commas
    ],
)
def test_keywords_are_split_like_pip(keywords: str, expected: list[str]) -> None:
    text = f"Metadata-Version: 2.1\nName: k\nVersion: 1\nKeywords: {keywords}\n\n".encode()
    assert metadata_to_json(Metadata.from_email(text, validate=False))["keywords"] == expected


def test_single_use_fields_are_strings_and_absent_fields_are_left_out() -> None:
    text = b"Metadata-Version: 2.3\nName: tiny\nVersion: 0.1\nDescription: short\n"

    converted = metadata_to_json(Metadata.from_email(text, validate=False))

    assert converted == {
        "metadata_version": "2.3",
        "name": "tiny",
        "version": "0.1",
        "description": "short",
    }


def _pin(url: str, **link: object) -> Pin:
    filename = url.rsplit("/", 1)[-1]
    candidate = Candidate(
        "pkg",  # type: ignore[arg-type]
        Version("1.0"),
        Link(url, filename, "https://index.example/simple/pkg/", **link),  # type: ignore[arg-type]
        "wheel",
    )
    return Pin(candidate.name, candidate.version, candidate)


def test_download_info_computes_a_missing_hash_only_from_a_local_file(tmp_path: Path) -> None:
    wheel = build_wheel(WheelSpec("pkg", "1.0"), tmp_path)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    expected = {"hashes": {"sha256": digest}, "hash": f"sha256={digest}"}

    assert download_info(_pin(wheel.as_uri()))["archive_info"] == expected
    remote = _pin("https://files.example/pkg-1.0-py3-none-any.whl")
    assert download_info(remote) == {"url": remote.candidate.link.url, "archive_info": {}}
    assert download_info(remote, wheel)["archive_info"] == expected  # once downloaded


def test_download_info_of_a_direct_url_and_credentials(tmp_path: Path) -> None:
    url = "https://user:secret@files.example/pkg-1.0-py3-none-any.whl"
    direct = DirectUrl(url, {"archive_info": {"hashes": {"sha256": "ab" * 32}}})
    pin = Pin("pkg", Version("1.0"), _pin(url).candidate, requested=True, direct_url=direct)  # type: ignore[arg-type]

    item = report_item(pin, Metadata.from_email(b"Name: pkg\nVersion: 1.0\n", validate=False))

    assert item["is_direct"] is True
    assert item["download_info"] == {
        "url": "https://files.example/pkg-1.0-py3-none-any.whl",
        "archive_info": {"hashes": {"sha256": "ab" * 32}, "hash": f"sha256={'ab' * 32}"},
    }
    kept = "https://${USER}:${TOKEN}@files.example/pkg-1.0-py3-none-any.whl"  # PEP 610
    assert download_info(_pin(kept))["url"] == kept


def test_yanked_files_are_flagged() -> None:
    pin = _pin("https://files.example/pkg-1.0-py3-none-any.whl", yanked="broken")
    metadata = Metadata.from_email(b"Name: pkg\nVersion: 1.0\n", validate=False)
    assert report_item(pin, metadata)["is_yanked"] is True


def test_written_to_a_file_or_dumped_for_stdout(tmp_path: Path) -> None:
    metadata = Metadata.from_email(
        "Name: pkg\nVersion: 1.0\nSummary: café\n".encode(), validate=False
    )
    report = installation_report(
        [report_item(_pin("https://files.example/pkg-1.0-py3-none-any.whl"), metadata)],
        MARKERS,
    )
    path = tmp_path / "report.json"

    write_report(report, path)

    text = path.read_text(encoding="utf-8")
    assert text == dumps_report(report) + "\n"
    assert json.loads(text) == report
    assert '"summary": "café"' in text  # non-ASCII kept, as pip writes it
    assert text.startswith('{\n  "version": "1",')  # indented by two, as pip writes it
    with pytest.raises(DiagnosticError) as raised:
        write_report(report, tmp_path / "missing" / "report.json")
    assert raised.value.code == "report-not-writable"
