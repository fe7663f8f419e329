"""The TOML resolver scenarios in ``scenarios/``, each run against an in-memory index."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipwise.resolve.pubgrub import SolverFailure, solve

from .memory import SCENARIOS, MemoryIndex, dependency, load

PATHS = sorted(SCENARIOS.glob("*.toml"))

#: Words an explanation must never show: internals, and the set notation users don't read.
FORBIDDEN = ("root", "∅", "Term", "Incompatibility", "VersionSet", "None")


@pytest.mark.parametrize("path", PATHS, ids=[path.stem for path in PATHS])
def test_scenario(path: Path) -> None:
    scenario = load(path)
    index = MemoryIndex(scenario["packages"], scenario.get("unavailable", {}))
    request = [dependency(text) for text in scenario["request"]]
    expect = scenario["expect"]

    if "solution" in expect:
        solution = solve(index, request, max_steps=1000)
        assert {name: str(version) for name, version in solution.items()} == expect["solution"]
        index.check(scenario["request"], solution)
        return

    with pytest.raises(SolverFailure) as caught:
        solve(index, request, max_steps=1000)
    text = str(caught.value)
    for word in FORBIDDEN:
        assert word not in text
    for phrase in expect.get("explanation", []):
        assert phrase in text
    if "text" in expect:
        assert text == expect["text"]


def test_there_are_scenarios() -> None:
    assert len(PATHS) >= 15


@pytest.mark.parametrize(
    "text",
    [
        'description = "x"\nrequest = ["a"]\npackages = {}\n[expect]\nsoluton = {}\n',
        'description = "x"\nrequests = ["a"]\npackages = {}\n[expect]\nsolution = {}\n',
        'description = "x"\nrequest = ["a"]\npackages = {}\n[expect]\n',
    ],
)
def test_a_typo_in_a_scenario_is_an_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "typo.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=r"typo\.toml"):
        load(path)
