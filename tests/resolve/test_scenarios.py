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
    text = caught.value.explanation.render()
    assert str(caught.value) == text
    for word in FORBIDDEN:
        assert word not in text
    for phrase in expect.get("explanation", []):
        assert phrase in text
    if "text" in expect:
        assert text == expect["text"]


def test_there_are_scenarios() -> None:
    assert len(PATHS) >= 15
