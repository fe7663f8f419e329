"""The resolver end to end in-process: a real index on 127.0.0.1, the real probe's target."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version

from pipwise.dists import Candidate
from pipwise.env.interpreters import inspect_interpreter
from pipwise.errors import DiagnosticError
from pipwise.formats.requirements import parse_requirement
from pipwise.index.finder import Finder
from pipwise.net.http import HttpFetcher
from pipwise.prepare import Preparer
from pipwise.resolve.pubgrub import SolverFailure, solve
from pipwise.resolve.resolver import (
    InstalledPreference,
    ResolveOptions,
    _direct_candidate,
    _ProgressReporter,
    resolve,
)
from pipwise.target import Target
from tests.resolve.memory import MemoryIndex, dependency
from tests.resolve.packaging_runner import SCENARIOS, run
from tests.support.index_server import IndexServer, write_simple_index
from tests.support.wheels import WheelSpec, build_wheel


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Target:
    return inspect_interpreter(sys.executable, cache_dir=tmp_path_factory.mktemp("probe"))


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    files = tmp_path_factory.mktemp("files")
    # A diamond whose newest versions conflict: the solver must backtrack through right.
    for version in ("1.0", "2.0", "3.0"):
        build_wheel(WheelSpec("left", version, requires=[f"base=={version}"]), files)
        build_wheel(
            WheelSpec("right", version, requires=[f"base=={4 - float(version):.1f}"]), files
        )
        build_wheel(WheelSpec("base", version), files)
    build_wheel(WheelSpec("base", "2.5"), files)
    with IndexServer(files, metadata=True) as server:
        yield server


def _resolve(
    index: IndexServer, target: Target, tmp_path: Path, *requirements: str, **kwargs: object
) -> dict[str, str]:
    with HttpFetcher(timeout=5, retries=0) as fetcher, Preparer(fetcher, tmp_path) as preparer:
        finder = Finder(
            fetcher,
            index_urls=[index.index_url],
            find_links=[],
            tags=target.tags,
            python_version=Version(target.version_string),
        )
        resolution = resolve(
            [parse_requirement(r) for r in requirements],
            finder=finder,
            preparer=preparer,
            target=target,
            installed=kwargs.pop("installed", {}),  # type: ignore[arg-type]
            options=kwargs.pop("options", ResolveOptions()),  # type: ignore[arg-type]
            **kwargs,  # type: ignore[arg-type]
        )
    return {name: str(pin.version) for name, pin in resolution.pins.items()}


def test_backtracks_to_a_consistent_diamond(
    index: IndexServer, target: Target, tmp_path: Path
) -> None:
    # left 3.0 needs base 3.0; right 3.0 and 2.0 need older bases; right 1.0 fits.
    assert _resolve(index, target, tmp_path, "left", "right") == {
        "base": "3.0",
        "left": "3.0",
        "right": "1.0",
    }


def test_budget_exhaustion_is_a_diagnosis_naming_the_busiest_packages(
    index: IndexServer, target: Target, tmp_path: Path
) -> None:
    with pytest.raises(DiagnosticError) as caught:
        _resolve(index, target, tmp_path, "left", "right", budget=3)
    error = caught.value
    assert error.code == "resolution-too-deep"
    assert error.exit_code == 1
    assert error.cause.startswith("gave up after ")
    assert any("most conflicts" in line for line in error.evidence)
    assert "--resolution-budget" in (error.note or "")


def test_installed_version_is_kept_unless_upgrading(
    index: IndexServer, target: Target, tmp_path: Path
) -> None:
    installed = {"base": InstalledPreference(Version("1.0"), ())}
    kept = _resolve(index, target, tmp_path, "base", installed=installed)
    assert kept == {"base": "1.0"}
    upgraded = _resolve(
        index, target, tmp_path, "base", installed=installed, options=ResolveOptions(upgrade=True)
    )
    assert upgraded == {"base": "3.0"}


def test_progress_is_reported_only_once_solving_is_slow() -> None:
    index = MemoryIndex(
        {"a": {"1.0": ["c==1.0"]}, "b": {"1.0": ["c==2.0"]}, "c": {"1.0": [], "2.0": []}}
    )
    with pytest.raises(SolverFailure) as caught:
        solve(index, [dependency("a"), dependency("b")])
    cause = caught.value.incompatibility
    said: list[str] = []
    now = [0.0]
    reporter = _ProgressReporter(said.append, clock=lambda: now[0])
    now[0] = 1.0
    reporter.backtracking("c", cause)  # quick solves stay quiet
    assert said == []
    now[0] = 4.0
    reporter.backtracking("c", cause)
    now[0] = 5.0
    reporter.backtracking("c", cause)  # at most one line every few seconds
    assert len(said) == 1
    assert said[0].startswith("Still resolving after 4s: backtracking on c (2 conflicts) because ")
    assert reporter.conflicts["c"] == 3


# -- direct URLs are judged like index files ----------------------------------------------


def _direct(text: str, target: Target) -> Candidate:
    return _direct_candidate(parse_requirement(text), 0, target)


def test_a_direct_url_is_read_like_an_index_link(target: Target) -> None:
    url = "https://files.example/d/torch-2.0%2Bcpu-py3-none-any.whl?token=abc"
    candidate = _direct(f"torch @ {url}#egg=torch", target)
    assert candidate.version == Version("2.0+cpu")
    assert candidate.link.filename == "torch-2.0+cpu-py3-none-any.whl"
    assert candidate.link.url == url  # the query is kept for the download; the fragment not
    assert candidate.link.hashes == {}  # #egg= is no hash
    hashed = _direct(f"torch @ {url}#sha256=AB12", target)
    assert hashed.link.hashes == {"sha256": "ab12"}


@pytest.mark.parametrize(
    ("text", "code", "phrase"),
    [
        (
            "lib @ https://files.example/lib-1.0-cp312-cp312-win_amd64.whl",
            "no-compatible-distribution",
            "do not match the target",
        ),
        ("lib @ https://files.example/lib.whl", "invalid-archive-name", "lib.whl"),
        ("lib @ https://files.example/lib-1.0.exe", "unsupported-direct-url", "lib-1.0.exe"),
        (
            "other @ https://files.example/lib-1.0-py3-none-any.whl",
            "direct-url-name-mismatch",
            "belongs to lib, not other",
        ),
    ],
)
def test_a_direct_url_the_target_cannot_use_is_a_diagnosis(
    target: Target, text: str, code: str, phrase: str
) -> None:
    with pytest.raises(DiagnosticError) as caught:
        _direct(text, target)
    error = caught.value
    assert error.code == code
    assert error.fix is None
    assert any(phrase in line for line in error.evidence), error.evidence
    assert error.evidence[0] == f"the command line: {parse_requirement(text).requirement}"


def test_a_name_mismatch_suggests_the_right_name_as_a_change(target: Target) -> None:
    url = "https://files.example/lib-1.0-py3-none-any.whl"
    with pytest.raises(DiagnosticError) as caught:
        _direct_candidate(parse_requirement(f"other[x] @ {url}"), 3, target)
    assert caught.value.details["change"] == {
        "replace": {"3": f"lib[x] @ {url}"},
        "add_flags": [],
    }


def test_a_misspelled_name_suggests_the_similar_one_as_a_change(
    target: Target, tmp_path: Path
) -> None:
    root = tmp_path / "file-index"
    build_wheel(WheelSpec("fancy-dep", "1.0"), root / "files")
    build_wheel(WheelSpec("other", "1.0"), root / "files")
    index_url = write_simple_index(root)
    requested = [parse_requirement("other"), parse_requirement("fancy_dpe>=1")]
    with (
        HttpFetcher(timeout=5, retries=0) as fetcher,
        Preparer(fetcher, tmp_path / "cache") as preparer,
    ):
        finder = Finder(
            fetcher,
            index_urls=[index_url],
            find_links=[],
            tags=target.tags,
            python_version=Version(target.version_string),
        )
        with pytest.raises(DiagnosticError) as caught:
            resolve(
                requested,
                finder=finder,
                preparer=preparer,
                target=target,
                installed={},
                options=ResolveOptions(),
            )
    error = caught.value
    assert error.code == "package-not-found"
    assert error.fix is None
    assert "did you mean 'fancy-dep>=1'?" in (error.note or "")
    assert error.details["change"] == {"replace": {"1": "fancy-dep>=1"}, "add_flags": []}


# -- merge rounds: when they run, and who closes the threads ---------------------------


def _scenario(name: str) -> Path:
    return SCENARIOS / f"{name}.toml"


def test_a_conflict_beside_an_unrelated_pre_release_is_solved_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a 0.5rc1 is in no requirement's range: no merge round and no --pre retry for it, only
    # the failed solve and the checked loosening of a==1.0.
    calls: list[int] = []

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return solve(*args, **kwargs)

    monkeypatch.setattr("pipwise.resolve.resolver.solve", counting)
    monkeypatch.chdir(tmp_path)
    outcome = run(_scenario("prerelease_unrelated_no_pre_fix"), tmp_path)
    assert outcome.error is not None
    assert outcome.error.code == "resolution-impossible"
    assert len(calls) == 2


def test_a_diagnosis_in_a_merge_round_leaves_no_prefetch_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pools: list[Recording] = []

    class Recording(ThreadPoolExecutor):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.closed = False
            pools.append(self)

        def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
            self.closed = True
            super().shutdown(wait, cancel_futures=cancel_futures)

    monkeypatch.setattr("pipwise.resolve.provider.ThreadPoolExecutor", Recording)
    monkeypatch.chdir(tmp_path)
    outcome = run(_scenario("url_dependency_after_merge_round"), tmp_path)
    assert outcome.error is not None
    assert outcome.error.code == "direct-url-dependency"  # raised by the second round
    assert len(pools) == 1  # the rounds share the first provider's threads ...
    assert pools[0].closed  # ... and it closes them on the way out
