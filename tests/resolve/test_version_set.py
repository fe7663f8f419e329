"""Version sets over a package's known versions, and terms over them."""

from __future__ import annotations

import doctest

import pytest
from packaging.version import Version

from pipwise.resolve.pubgrub import Term, Universe, VersionSet, solver, version_set

KNOWN = Universe(Version(v) for v in ["3.0", "2.5", "2.0", "1.4", "1.2", "1.0"])


def of(*versions: str, label: str | None = None) -> VersionSet:
    return KNOWN.of((Version(v) for v in versions), label)


@pytest.mark.parametrize(
    ("versions", "text"),
    [
        ((), "no version"),
        (("1.0", "1.2", "1.4", "2.0", "2.5", "3.0"), "any version"),
        (("1.4",), "==1.4"),
        (("2.0", "2.5"), ">=2.0,<3.0"),
        (("1.0", "1.2"), "<1.4"),
        (("2.5", "3.0"), ">=2.5"),
        (("1.0", "1.4", "2.5"), "1.0, 1.4 or 2.5"),
        (("1.0", "1.2", "2.0", "2.5", "3.0"), "!=1.4"),
        (("1.0", "1.4", "2.5", "3.0"), "!=1.2,!=2.0"),
        (("1.0", "2.0", "2.5", "3.0"), "==1.0 or >=2.0"),
        (("1.0", "1.2", "2.5", "3.0"), "<1.4 or >=2.5"),
        (("1.0", "1.2", "2.0"), "<1.4 or ==2.0"),
    ],
)
def test_sets_render_as_compact_ranges(versions: tuple[str, ...], text: str) -> None:
    assert str(of(*versions)) == text


def test_a_label_is_shown_and_survives_term_operations_that_keep_the_set() -> None:
    newer = KNOWN.matching(lambda v: v >= Version("2"), ">=2")
    assert str(newer) == ">=2"
    assert newer == of("2.0", "2.5", "3.0")
    term = Term("a", newer)
    assert str(term.intersect(Term("a", KNOWN.everything())).versions) == ">=2"
    assert str(Term("a", KNOWN.everything()).intersect(term).versions) == ">=2"
    assert str(term.difference(Term("a", of("3.0"))).versions) == ">=2.0,<3.0"
    assert str(term.negate()) == "not a>=2"
    assert str(KNOWN.matching(None, "")) == "any version"


def test_a_label_beginning_with_a_space_attaches_to_the_name() -> None:
    direct = KNOWN.matching([Version("1.0")], " @ https://example.org/a-1.0.whl")
    assert str(Term("a", direct)) == "a @ https://example.org/a-1.0.whl"
    assert str(Term("a", of("1.0", "1.4"))) == "a 1.0 or 1.4"


def test_set_queries() -> None:
    a, b = of("1.0", "1.2", "2.0"), of("2.0", "3.0")
    assert not a.isdisjoint(b)
    assert of("1.0").isdisjoint(b)
    assert len(a) == 3
    assert list(a) == [Version("1.0"), Version("1.2"), Version("2.0")]
    assert a.versions == (Version("1.0"), Version("1.2"), Version("2.0"))
    assert Version("1.2") in a
    assert Version("9.0") not in a
    assert "1.2" not in a
    assert KNOWN.nothing().is_empty
    assert not a.is_empty
    assert KNOWN.everything().is_any
    assert not a.is_any


def test_universe_keeps_preference_and_drops_duplicates() -> None:
    universe = Universe(Version(v) for v in ["1.0", "2.0", "1.0.0", "1.5"])
    assert universe.versions == (Version("1.0"), Version("1.5"), Version("2.0"))
    assert universe.preferred == (Version("1.0"), Version("2.0"), Version("1.5"))
    assert universe.first_preferred(universe.of([Version("1.5"), Version("2.0")]).mask) == (
        Version("2.0")
    )
    assert universe.first_preferred(0) is None
    assert len(Universe([])) == 0
    assert str(Universe([]).everything()) == "no version"


def test_sets_of_different_packages_do_not_mix() -> None:
    other = Universe([Version("1.0")])
    with pytest.raises(ValueError, match="different packages"):
        other.everything().isdisjoint(KNOWN.everything())


def test_term_satisfaction_follows_the_not_selected_reading() -> None:
    low = Term("a", of("1.0", "1.2"))
    low_or_mid = Term("a", of("1.0", "1.2", "1.4"))
    assert low.satisfies(low_or_mid)
    assert not low_or_mid.satisfies(low)
    assert not low.satisfies(low.negate())
    # "not a <1.4" is true when a is not selected, which no positive term allows ...
    assert not low.negate().satisfies(Term("a", of("2.0", "2.5", "3.0", "1.4")))
    # ... and two negative terms are both true when a is not selected at all.
    assert low.negate().satisfies(Term("a", of("1.0"), False))
    assert not Term("a", of("1.0"), False).satisfies(low.negate())
    assert Term("a", of("2.0")).satisfies(low.negate())


def test_term_algebra() -> None:
    low = Term("a", of("1.0", "1.2"))
    mid = Term("a", of("1.2", "1.4"))
    assert low.intersect(mid) == Term("a", of("1.2"))
    assert low.intersect(mid.negate()) == Term("a", of("1.0"))
    assert low.negate().intersect(mid.negate()) == Term("a", of("1.0", "1.2", "1.4"), False)
    assert low.difference(mid) == Term("a", of("1.0"))
    with pytest.raises(ValueError, match="cannot be combined"):
        low.intersect(Term("b", of("1.0")))
    assert str(Term("a", of("2.5", "3.0"))) == "a>=2.5"
    assert str(Term("a", of("1.0", "1.4"), False)) == "not a 1.0 or 1.4"


@pytest.mark.parametrize("module", [version_set, solver])
def test_docstring_examples(module: object) -> None:
    result = doctest.testmod(module, raise_on_error=False)  # type: ignore[arg-type]
    assert result.failed == 0
    assert result.attempted > 0
