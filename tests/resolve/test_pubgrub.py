"""The PubGrub solver: solutions, explanations as data, the seams, budgets and scale."""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence

import pytest
from packaging.version import Version

from pipwise.resolve.pubgrub import (
    BaseReporter,
    Conflict,
    Dependency,
    DependsOn,
    Incompatibility,
    NoVersions,
    PlainDescriber,
    Requested,
    Solver,
    SolverBudgetExceeded,
    SolverFailure,
    Term,
    UnavailableVersion,
    VersionSet,
    explain,
    solve,
)
from pipwise.resolve.pubgrub.incompatibility import describe

from .memory import MemoryIndex, dependency

COFFEE = MemoryIndex(
    {
        "package_coffee": {"0.44.1": ["package_water<3.0.0,>=2.4.2"]},
        "package_tea": {"4.3.0": ["package_water==2.3.1"]},
        "package_water": {"2.3.1": [], "2.4.2": [], "2.5.0": []},
    }
)

BRANCHING = MemoryIndex(
    {
        "foo": {
            "1.0.0": ["a>=1.0.0,<2.0.0", "b>=1.0.0,<2.0.0"],
            "1.1.0": ["x>=1.0.0,<2.0.0", "y>=1.0.0,<2.0.0"],
        },
        "a": {"1.0.0": ["b>=2.0.0,<3.0.0"]},
        "b": {"1.0.0": [], "2.0.0": []},
        "x": {"1.0.0": ["y>=2.0.0,<3.0.0"]},
        "y": {"1.0.0": [], "2.0.0": []},
    }
)


def fail(index: MemoryIndex, *request: str) -> SolverFailure[str]:
    with pytest.raises(SolverFailure) as caught:
        solve(index, [dependency(text) for text in request])
    failure: SolverFailure[str] = caught.value
    return failure


# -- the seed example -----------------------------------------------------------------


def test_coffee_and_tea_need_incompatible_water() -> None:
    failure = fail(COFFEE, "package_coffee", "package_tea")
    text = str(failure)
    assert "package_coffee 0.44.1 depends on package_water<3.0.0,>=2.4.2" in text
    assert "package_tea 4.3.0 depends on package_water==2.3.1" in text
    assert text.endswith("the request cannot be satisfied.")
    assert "root" not in text
    assert "∅" not in text
    assert failure.incompatibility.is_failure


def test_explanation_cites_edges_with_their_labels() -> None:
    explanation = fail(COFFEE, "package_coffee", "package_tea").explanation
    edges = {
        (edge.depender, edge.package, edge.label)
        for line in explanation.lines
        for edge in line.edges
    }
    assert edges == {
        ("package_coffee", "package_water", "<3.0.0,>=2.4.2"),
        ("package_tea", "package_water", "==2.3.1"),
    }
    for line in explanation.lines:
        for edge in line.edges:
            assert edge.depender_version in {Version("0.44.1"), Version("4.3.0")}
    water = [edge.versions for line in explanation.lines for edge in line.edges]
    assert sorted(str(v) for s in water for v in s) == ["2.3.1", "2.4.2", "2.5.0"]
    requested = [fact for fact in explanation.facts if isinstance(fact, Requested)]
    assert {fact.package for fact in requested} == {"package_coffee", "package_tea"}
    assert set(explanation.packages) == {"package_coffee", "package_tea", "package_water"}
    # A linear explanation needs no line numbers, and ends with the empty conclusion.
    assert all(line.number is None for line in explanation.lines)
    assert explanation.lines[-1].terms == ()


def test_branching_explanation_numbers_the_line_it_refers_back_to() -> None:
    explanation = fail(BRANCHING, "foo>=1.0.0,<2.0.0").explanation
    numbered = [line for line in explanation.lines if line.number is not None]
    assert [line.number for line in numbered] == [1]
    assert "foo 1.0.0 cannot be used" in numbered[0].text
    referring = [line for line in explanation.lines if line.refs]
    assert [line.refs for line in referring] == [(1,)]
    assert "(1)" in referring[0].text
    assert [line.new_paragraph for line in explanation.lines].count(True) == 1
    rendered = explanation.render().splitlines()
    assert rendered[1].startswith("(1) So, because")
    assert rendered[2] == ""
    assert rendered[0].startswith("    Because")


# -- solutions --------------------------------------------------------------------------


def test_empty_request_selects_nothing() -> None:
    assert solve(COFFEE, []) == {}


def test_preference_order_is_the_providers() -> None:
    class OldestFirst(MemoryIndex):
        def versions(self, package: str) -> Sequence[Version]:
            return list(reversed(super().versions(package)))

    index = OldestFirst({"a": {"1.0": [], "2.0": [], "3.0": []}})
    assert solve(index, [dependency("a>1.0")]) == {"a": Version("2.0")}


def test_dependencies_are_asked_once_per_version() -> None:
    index = MemoryIndex(
        {
            "a": {"2.0": ["b>=2"], "1.0": ["b<2"]},
            "b": {"2.0": ["c>=2"], "1.0": []},
            "c": {"2.0": ["a<2"], "1.0": []},
        }
    )
    solution = solve(index, [dependency("a")])
    assert solution == {"a": Version("1.0"), "b": Version("1.0")}
    assert len(index.asked) == len(set(index.asked))


def test_backtracking_is_reported() -> None:
    events: list[tuple[str, str]] = []

    class Recorder(BaseReporter[str]):
        def starting(self) -> None:
            events.append(("starting", ""))

        def deciding(self, package: str, version: Version) -> None:
            events.append(("deciding", f"{package} {version}"))

        def backtracking(self, package: str, cause: Incompatibility[str]) -> None:
            events.append(("backtracking", package))

        def resolved(self, solution: Mapping[str, Version]) -> None:
            events.append(("resolved", ",".join(sorted(solution))))

    index = MemoryIndex(
        {
            "a": {"2.0": ["d>=2"], "1.0": ["d<2"]},
            "d": {"2.0": ["e>=2"], "1.0": []},
            "e": {"2.0": ["f>=2"], "1.0": []},
            "f": {"2.0": ["a<2"], "1.0": []},
        }
    )
    solution = solve(index, [dependency("a")], reporter=Recorder())
    assert solution == {"a": Version("1.0"), "d": Version("1.0")}
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "starting"
    assert events[-1] == ("resolved", "a,d")
    assert "backtracking" in kinds
    # a 2.0, d 2.0 and e 2.0 were decided before the conflict undid them all.
    assert ("deciding", "e 2.0") in events
    assert events.index(("deciding", "e 2.0")) < events.index(("deciding", "a 1.0"))


def test_a_version_excluding_itself_is_skipped() -> None:
    index = MemoryIndex({"a": {"2.0": ["a<2"], "1.0": ["a==1.0"]}})
    assert solve(index, [dependency("a")]) == {"a": Version("1.0")}


def test_explicit_version_collections_and_any_version() -> None:
    index = MemoryIndex({"a": {"1.0": [], "2.0": [], "3.0": []}, "b": {"1.0": []}})
    request = [
        Dependency("a", [Version("1.0"), Version("2.0"), Version("9.9")], "a chosen few"),
        Dependency("b"),
    ]
    assert solve(index, request) == {"a": Version("2.0"), "b": Version("1.0")}


def test_pep440_quirks_are_exact_over_the_known_versions() -> None:
    from packaging.specifiers import SpecifierSet

    index = MemoryIndex({"a": {"1.0": [], "1.0+local": [], "1.5": [], "2.0": []}})
    not_one = SpecifierSet("!=1.*")
    request = [Dependency("a", lambda v: not_one.contains(v, prereleases=True), "!=1.*")]
    assert solve(index, request) == {"a": Version("2.0")}
    failure = fail(index, "a!=1.*,!=2.0")
    assert "you require a!=1.*,!=2.0 which doesn't match any versions" in str(failure)


# -- unavailable and missing versions ---------------------------------------------------


def test_unavailable_versions_are_avoided_and_cited() -> None:
    index = MemoryIndex(
        {"app": {"2.0": [], "1.0": []}, "tool": {"1.0": ["app>=2"]}},
        unavailable={"app": {"2.0": "requires Python >=3.12"}},
    )
    assert solve(index, [dependency("app")]) == {"app": Version("1.0")}
    failure = fail(index, "tool")
    text = str(failure)
    assert "tool 1.0 depends on app>=2 which is unavailable (requires Python >=3.12)" in text
    (unavailable,) = [f for f in failure.explanation.facts if isinstance(f, UnavailableVersion)]
    assert unavailable == UnavailableVersion("app", Version("2.0"), "requires Python >=3.12")


def test_not_found_is_told_apart_from_no_match() -> None:
    index = MemoryIndex({"app": {"1.0": ["ghost"], "2.0": ["lib>=5"]}, "lib": {"1.0": []}})
    failure = fail(index, "app")
    missing = {
        f.package: f.not_found for f in failure.explanation.facts if isinstance(f, NoVersions)
    }
    assert missing == {"ghost": True, "lib": False}
    text = str(failure)
    assert "app 1.0 depends on ghost which has no available versions" in text
    assert "app 2.0 depends on lib>=5 which doesn't match any versions" in text


def test_provider_errors_propagate() -> None:
    class Broken(MemoryIndex):
        def versions(self, package: str) -> Sequence[Version]:
            if package == "b":
                raise LookupError("index unreachable")
            return super().versions(package)

    with pytest.raises(LookupError, match="index unreachable"):
        solve(Broken({"a": {"1.0": ["b"]}}), [dependency("a")])


# -- budget, reuse and scale ------------------------------------------------------------


def test_max_steps_names_the_package_being_worked_on() -> None:
    index = MemoryIndex({"a": {"2.0": ["b"], "1.0": []}, "b": {"1.0": ["c"]}, "c": {"1.0": []}})
    with pytest.raises(SolverBudgetExceeded) as caught:
        solve(index, [dependency("a")], max_steps=2)
    assert caught.value.package == "c"
    assert caught.value.steps == 2
    assert str(caught.value) == "gave up after 2 steps while working on c"


def test_a_solver_runs_once() -> None:
    solver: Solver[str] = Solver(COFFEE)
    solver.solve([dependency("package_coffee")])
    assert solver.steps == 2
    with pytest.raises(RuntimeError):
        solver.solve([])


def generated_index(size: int, versions: int, seed: int) -> MemoryIndex:
    """A random graph with a known solution: the target version of every package only
    needs target versions; other versions need arbitrary ranges, some reaching back
    to earlier packages to make cycles."""
    rng = random.Random(seed)
    target = [rng.randrange(versions) for _ in range(size)]
    packages: dict[str, dict[str, list[str]]] = {}
    for i in range(size):
        entries: dict[str, list[str]] = {}
        for v in range(versions):
            later = rng.sample(range(i + 1, size), min(3, size - i - 1))
            earlier = [rng.randrange(i)] if i and rng.random() < 0.2 else []
            requirements = []
            for j in later + earlier:
                low = rng.randrange(versions)
                high = rng.randrange(low, versions)
                if v == target[i]:
                    low, high = min(low, target[j]), max(high, target[j])
                requirements.append(f"p{j}>={low}.0,<={high}.0")
            entries[f"{v}.0"] = requirements
        packages[f"p{i}"] = entries
    return MemoryIndex(packages)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_hundred_packages_solve_within_budget(seed: int) -> None:
    index = generated_index(200, 10, seed)
    solver: Solver[str] = Solver(index, max_steps=20_000)
    solution = solver.solve([dependency("p0")])
    index.check(["p0"], solution)
    assert len(solution) > 20


def test_long_chains_explain_without_recursion_trouble() -> None:
    size = 600
    packages = {f"p{i}": {"1.0": [f"p{i + 1}"]} for i in range(size)}
    packages[f"p{size}"] = {"1.0": ["p0>=2"]}
    failure = fail(MemoryIndex(packages), "p0")
    lines = failure.explanation.lines
    assert all(line.number is None for line in lines)
    assert "p0 1.0 depends on p1" in str(failure)
    assert f"p{size} 1.0 depends on p0>=2" in str(failure)


def test_explanation_as_json() -> None:
    data = fail(COFFEE, "package_coffee", "package_tea").explanation.to_json()
    json.dumps(data)
    facts = [fact for line in data for fact in line["facts"]]
    assert {
        "kind": "depends-on",
        "depender": "package_tea",
        "depender_version": "4.3.0",
        "package": "package_water",
        "versions": "==2.3.1",
        "label": "==2.3.1",
    } in facts
    assert data[0]["terms"] == [
        {
            "package": "package_coffee",
            "versions": "any version",
            "matching": ["0.44.1"],
            "positive": True,
        },
        {
            "package": "package_tea",
            "versions": "any version",
            "matching": ["4.3.0"],
            "positive": True,
        },
    ]


def test_the_failure_carries_the_derivation_the_explanation_cites() -> None:
    failure = fail(COFFEE, "package_coffee", "package_tea")
    terminal = failure.incompatibility
    assert terminal.is_failure
    assert terminal.is_derived
    # Every external fact the derivation graph rests on is cited, and nothing else.
    leaves: set[object] = set()
    stack = [terminal]
    while stack:
        node = stack.pop()
        if isinstance(node.cause, Conflict):
            stack += [node.cause.conflict, node.cause.other]
        else:
            leaves.add(node.cause)
    assert leaves == set(failure.explanation.facts)
    edges = {(f.depender, f.package, f.label) for f in leaves if isinstance(f, DependsOn)}
    assert edges == {
        ("package_coffee", "package_water", "<3.0.0,>=2.4.2"),
        ("package_tea", "package_water", "==2.3.1"),
    }


def test_a_describer_words_the_hosts_facts() -> None:
    class Shouting(PlainDescriber[str]):
        def package(self, package: str) -> str:
            return package.upper()

        def no_versions(self, package: str, versions: VersionSet) -> str | None:
            return "the machine cannot run" if package == "lib" else None

    index = MemoryIndex({"app": {"1.0": ["lib>=5"]}, "lib": {"1.0": []}})
    failure = fail(index, "app")
    assert "app 1.0 depends on lib>=5 which doesn't match any versions" in str(failure)
    text = explain(failure.incompatibility, Shouting()).render()
    assert "APP 1.0 depends on LIB>=5, which the machine cannot run" in text
    (missing,) = [f for f in failure.explanation.facts if isinstance(f, NoVersions)]
    lone = Incompatibility((Term("lib", missing.versions),), missing)
    assert describe(lone, Shouting()) == "the machine cannot run >=5"
    assert describe(lone) == "no versions of lib match >=5"
