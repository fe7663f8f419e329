"""The resolver end to end in-process: a real index on 127.0.0.1, the real probe's target."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.version import Version

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
    _ProgressReporter,
    resolve,
)
from pipwise.target import Target
from tests.resolve.memory import MemoryIndex, dependency
from tests.support.index_server import IndexServer
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
        with finder:
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
