"""The evaluator's verdicts and reasons for wheels, sdists and unusable files."""

from __future__ import annotations

import pytest
from packaging.tags import Tag
from packaging.utils import canonicalize_name
from packaging.version import Version

from pipwise.dists import Candidate, Link, Rejection
from pipwise.index.evaluator import evaluate, tag_ranks

TAGS = (
    Tag("cp311", "cp311", "manylinux_2_17_x86_64"),
    Tag("cp311", "abi3", "manylinux_2_17_x86_64"),
    Tag("cp311", "none", "any"),
    Tag("py3", "none", "any"),
)
RANKS = tag_ranks(TAGS)
NAME = canonicalize_name("demo")


def judge(
    filename: str, *, requires_python: str | None = None, yanked: str | None = None
) -> Candidate | Rejection:
    link = Link(
        url=f"https://example.org/files/{filename}",
        filename=filename,
        comes_from="https://example.org/simple/demo/",
        requires_python=requires_python,
        yanked=yanked,
    )
    return evaluate(link, name=NAME, tags=TAGS, python_version=Version("3.11.7"), ranks=RANKS)


def rejection(verdict: Candidate | Rejection) -> Rejection:
    assert isinstance(verdict, Rejection), verdict
    return verdict


def candidate(verdict: Candidate | Rejection) -> Candidate:
    assert isinstance(verdict, Candidate), verdict
    return verdict


@pytest.mark.parametrize(
    ("filename", "priority"),
    [
        ("demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", 0),
        ("demo-1.0-cp311-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", 1),
        ("demo-1.0-py2.py3-none-any.whl", 3),
    ],
)
def test_wheels_get_the_position_of_their_best_tag(filename: str, priority: int) -> None:
    verdict = candidate(judge(filename))
    assert (verdict.name, verdict.version, verdict.kind) == ("demo", Version("1.0"), "wheel")
    assert verdict.tag_priority == priority
    link = Link("u", filename, "p")
    alone = evaluate(link, name=NAME, tags=TAGS, python_version=Version("3.11"))  # no ranks
    assert candidate(alone).tag_priority == priority


def test_tag_ranks_keep_the_first_position_of_a_repeated_tag() -> None:
    assert tag_ranks([*TAGS, TAGS[0]])[TAGS[0]] == 0


@pytest.mark.parametrize("filename", ["Demo-1.0.tar.gz", "demo-1.0.zip"])
def test_sdists_are_candidates_without_tag_priority(filename: str) -> None:
    verdict = candidate(judge(filename))
    assert (verdict.kind, verdict.tag_priority) == ("sdist", None)


def test_incompatible_tags_name_both_sides() -> None:
    verdict = rejection(judge("demo-1.0-cp312-cp312-win_amd64.whl"))
    assert verdict.category == "tags"
    assert "cp312-cp312-win_amd64" in verdict.reason
    assert "cp311-cp311-manylinux_2_17_x86_64" in verdict.reason


def test_requires_python_excluding_the_target() -> None:
    verdict = rejection(judge("demo-1.0-py3-none-any.whl", requires_python=" >=3.12 "))
    assert verdict.category == "requires-python"
    assert verdict.reason == "requires Python >=3.12; target is 3.11.7"


def test_requires_python_is_lenient_where_pip_is() -> None:
    assert isinstance(judge("demo-1.0.tar.gz", requires_python=">=3.11"), Candidate)
    assert isinstance(judge("demo-1.0.tar.gz", requires_python="this is not >= a spec"), Candidate)
    link = Link("u", "demo-1.0.tar.gz", "p", requires_python=">=3.8")
    prerelease = Version("3.13.0rc1")
    assert isinstance(evaluate(link, name=NAME, tags=TAGS, python_version=prerelease), Candidate)


@pytest.mark.parametrize(
    ("filename", "category"),
    [
        ("other-1.0-py3-none-any.whl", "name-mismatch"),
        ("other-1.0.tar.gz", "name-mismatch"),
        ("demo-1.0.tar.bz2", "invalid-filename"),
        ("demo-1.0-py3-none-any.whl.metadata", "invalid-filename"),
        ("demo.whl", "invalid-filename"),
        ("demo-notaversion.tar.gz", "invalid-filename"),
        ("index.html", "invalid-filename"),
    ],
)
def test_unusable_files(filename: str, category: str) -> None:
    verdict = rejection(judge(filename))
    assert verdict.category == category
    assert verdict.reason


def test_yanked_and_prereleases_are_left_to_the_resolver() -> None:
    verdict = candidate(judge("demo-2.0rc1-py3-none-any.whl", yanked="broken"))
    assert verdict.link.yanked == "broken"
    assert verdict.version.is_prerelease
