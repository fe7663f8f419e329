"""The solver against brute force on many small random indexes: it finds a solution
exactly when one exists, and every solution it finds is valid."""

from __future__ import annotations

import itertools
import random

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from pipwise.resolve.pubgrub import SolverFailure, solve

from .memory import MemoryIndex, dependency

NAMES = ["a", "b", "c", "d"]


def random_index(rng: random.Random) -> tuple[MemoryIndex, list[str]]:
    packages: dict[str, dict[str, list[str]]] = {}
    unavailable: dict[str, dict[str, str]] = {}
    for name in NAMES[: rng.randint(2, len(NAMES))]:
        entries: dict[str, list[str]] = {}
        for v in range(1, rng.randint(1, 4) + 1):
            needs = []
            for other in rng.sample(NAMES, rng.randint(0, 2)):
                low = rng.randint(0, 4)
                needs.append(f"{other}>={low},<={rng.randint(low, 5)}")
            entries[f"{v}.0"] = needs
            if rng.random() < 0.1:
                unavailable.setdefault(name, {})[f"{v}.0"] = "unusable"
        packages[name] = entries
    request = [f"{name}>={rng.randint(0, 2)}" for name in rng.sample(NAMES, rng.randint(1, 2))]
    return MemoryIndex(packages, unavailable), request


def solvable(index: MemoryIndex, request: list[str]) -> bool:
    choices = []
    for name in NAMES:
        usable = [
            Version(v)
            for v in index.packages.get(name, {})
            if v not in index.unavailable.get(name, {})
        ]
        choices.append([None, *usable])
    for picks in itertools.product(*choices):
        chosen = {name: version for name, version in zip(NAMES, picks, strict=True) if version}
        if all(ok(chosen, text) for text in request) and all(
            ok(chosen, text)
            for name, version in chosen.items()
            for text in index.packages[name][str(version)]
        ):
            return True
    return False


def ok(chosen: dict[str, Version], text: str) -> bool:
    requirement = Requirement(text)
    version = chosen.get(requirement.name)
    return version is not None and requirement.specifier.contains(version, prereleases=True)


@pytest.mark.parametrize("seed", range(10))
def test_agrees_with_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(60):
        index, request = random_index(rng)
        expected = solvable(index, request)
        try:
            solution = solve(index, [dependency(text) for text in request], max_steps=10_000)
        except SolverFailure as failure:
            assert not expected, (index.packages, index.unavailable, request)
            text = str(failure)
            assert "root" not in text
            assert "∅" not in text
            continue
        assert expected, (index.packages, request)
        index.check(request, solution)
