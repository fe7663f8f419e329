"""An in-memory index for solver tests, and the TOML scenarios that describe one."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NotRequired, TypedDict

from packaging.requirements import Requirement
from packaging.version import Version

from pipwise.resolve.pubgrub import Dependency, Unavailable

from .packaging_runner import check_keys

SCENARIOS = Path(__file__).parent / "scenarios"


def dependency(text: str) -> Dependency[str]:
    """A solver dependency from a PEP 508 string, labelled with its specifier."""
    requirement = Requirement(text)
    specifier = requirement.specifier
    if not specifier:
        return Dependency(requirement.name)
    return Dependency(
        requirement.name,
        lambda version: specifier.contains(version, prereleases=True),
        str(specifier),
    )


@dataclass
class MemoryIndex:
    """package -> version -> dependency strings; versions are offered newest first."""

    packages: Mapping[str, Mapping[str, Sequence[str]]]
    #: package -> version -> reason the version cannot be used.
    unavailable: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    #: Every (package, version) whose dependencies were asked for, in order.
    asked: list[tuple[str, str]] = field(default_factory=list)

    def versions(self, package: str) -> Sequence[Version]:
        return sorted((Version(v) for v in self.packages.get(package, {})), reverse=True)

    def dependencies(self, package: str, version: Version) -> Sequence[Dependency[str]]:
        self.asked.append((package, str(version)))
        reason = self.unavailable.get(package, {}).get(str(version))
        if reason is not None:
            raise Unavailable(reason)
        for text, requirements in self.packages[package].items():
            if Version(text) == version:
                return [dependency(r) for r in requirements]
        raise KeyError((package, version))

    def check(self, request: Sequence[str], solution: Mapping[str, Version]) -> None:
        """Assert that `solution` meets the request and every chosen version's needs."""
        for text in request:
            wanted = Requirement(text)
            assert wanted.name in solution, f"{wanted.name} was requested"
            assert wanted.specifier.contains(solution[wanted.name], prereleases=True), text
        for package, version in solution.items():
            for needed in self.dependencies(package, version):
                assert needed.package in solution, f"{package} {version} needs {needed.package}"
                chosen = solution[needed.package]
                matcher = needed.versions
                assert matcher is None or callable(matcher)
                assert matcher is None or matcher(chosen), f"{package} {version} needs {needed}"


class Expectation(TypedDict):
    solution: NotRequired[dict[str, str]]
    #: Phrases the rendered explanation must contain.
    explanation: NotRequired[list[str]]
    #: The whole rendered explanation, when a scenario pins it.
    text: NotRequired[str]


class Scenario(TypedDict):
    description: str
    request: list[str]
    packages: dict[str, dict[str, list[str]]]
    unavailable: NotRequired[dict[str, dict[str, str]]]
    expect: Expectation


def load(path: Path) -> Scenario:
    """Read one scenario file (unknown keys are typos, so they are errors)."""
    with path.open("rb") as file:
        data = tomllib.load(file)
    check_keys("scenario", data, Scenario.__annotations__, path)
    check_keys("expect", data["expect"], Expectation.__annotations__, path)
    if ("solution" in data["expect"]) == (
        "explanation" in data["expect"] or "text" in data["expect"]
    ):
        raise ValueError(f"{path.name}: [expect] needs a solution, or an explanation or text")
    scenario: Scenario = {
        "description": data["description"],
        "request": data["request"],
        "packages": data["packages"],
        "expect": data["expect"],
    }
    if "unavailable" in data:
        scenario["unavailable"] = data["unavailable"]
    return scenario
