"""Incompatibilities: sets of terms that cannot all be true, their causes, and their wording."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from packaging.version import Version

from .term import K, Term
from .version_set import VersionSet

__all__ = [
    "PLAIN",
    "Cause",
    "Conflict",
    "DependsOn",
    "Describer",
    "ExternalCause",
    "Incompatibility",
    "NoVersions",
    "PlainDescriber",
    "Requested",
    "UnavailableVersion",
    "describe",
    "describe_pair",
    "describe_term",
]


# -- causes ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Requested(Generic[K]):
    """The request asks for `package` at a version in `versions`: ``{not package versions}``."""

    package: K
    versions: VersionSet

    @property
    def label(self) -> str | None:
        """The requirement's specifier text, as the host gave it."""
        return self.versions.label


@dataclass(frozen=True, slots=True)
class DependsOn(Generic[K]):
    """A dependency edge: `depender` at `depender_versions` needs `package` in `versions`."""

    depender: K
    depender_versions: VersionSet
    package: K
    versions: VersionSet

    @property
    def label(self) -> str | None:
        """The dependency's specifier text, as the host gave it."""
        return self.versions.label

    @property
    def depender_version(self) -> Version | None:
        """The depender's version when the edge is about one version (it always is today)."""
        versions = self.depender_versions.versions
        return versions[0] if len(versions) == 1 else None


@dataclass(frozen=True, slots=True)
class NoVersions(Generic[K]):
    """No version of `package` is in `versions`: ``{package versions}``."""

    package: K
    versions: VersionSet

    @property
    def not_found(self) -> bool:
        """True when the host offered no versions of the package at all."""
        return len(self.versions.universe) == 0


@dataclass(frozen=True, slots=True)
class UnavailableVersion(Generic[K]):
    """The host said `version` of `package` cannot be used, for `reason`."""

    package: K
    version: Version
    reason: str


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Conflict(Generic[K]):
    """A derived incompatibility's causes: the `conflict` being resolved and the
    satisfier's cause it was resolved against."""

    conflict: Incompatibility[K]
    other: Incompatibility[K]

    def __repr__(self) -> str:
        return f"Conflict({self.conflict!r}, {self.other!r})"


# -- incompatibilities ----------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Incompatibility(Generic[K]):
    """Terms that are not all allowed to be true, and why (pub's ``doc/solver.md``).

    Identity is the incompatibility: two derived with the same terms are still two
    nodes of the derivation graph.
    """

    terms: tuple[Term[K], ...]
    cause: Cause[K]

    @classmethod
    def of(cls, terms: Iterable[Term[K]], cause: Cause[K]) -> Incompatibility[K]:
        """Normalise `terms` so that each package appears once (terms are intersected)."""
        merged: dict[K, Term[K]] = {}
        for term in terms:
            seen = merged.get(term.package)
            merged[term.package] = term if seen is None else seen.intersect(term)
        return cls(tuple(merged.values()), cause)

    @property
    def is_failure(self) -> bool:
        """True for the empty incompatibility: no selection at all satisfies the request."""
        return not self.terms

    @property
    def is_derived(self) -> bool:
        """True when conflict resolution derived it from two others."""
        return isinstance(self.cause, Conflict)

    @property
    def packages(self) -> tuple[K, ...]:
        """The packages the terms refer to."""
        return tuple(term.package for term in self.terms)

    def term_for(self, package: K) -> Term[K] | None:
        """The term about `package`, if any."""
        for term in self.terms:
            if term.package == package:
                return term
        return None

    def __str__(self) -> str:
        return describe(self)

    def __repr__(self) -> str:
        return "{" + ", ".join(str(term) for term in self.terms) + "}"


#: The external facts an incompatibility can come from.
ExternalCause = Requested[K] | DependsOn[K] | NoVersions[K] | UnavailableVersion[K]
#: Why an incompatibility holds: an external fact, or a derivation from two others.
Cause = ExternalCause[K] | Conflict[K]


# -- wording --------------------------------------------------------------------------
# The phrasing follows pub's Incompatibility.toString/andToString, with the root package
# replaced by "you": requirements are incompatibilities {not package versions} caused by
# Requested, and read "you require package versions".


#: A package key the describer reads (it only takes keys, so it is contravariant).
_K_contra = TypeVar("_K_contra", bound=Hashable, contravariant=True)


class Describer(Protocol[_K_contra]):
    """How the host names its packages in explanations (compare pub's "root package" wording).

    The solver's sentences are generic; a host whose packages include something that is not
    chosen from an index (a target interpreter, say) words those facts here.
    """

    def package(self, package: _K_contra) -> str:
        """The name of `package` in a sentence: ``requests``."""
        ...

    def no_versions(self, package: _K_contra, versions: VersionSet) -> str | None:
        """Why no version of `package` is in `versions`, as a clause the set can follow:
        ``the target's Python 3.11.7 does not satisfy`` (read with ``>=3.12`` after it, or
        after ``which``); None for the generic ``no versions of package match``."""
        ...


class PlainDescriber(Generic[K]):
    """Packages by ``str``, and the generic wording for every fact."""

    def package(self, package: K) -> str:
        """The package's ``str``."""
        return str(package)

    def no_versions(self, package: K, versions: VersionSet) -> str | None:
        """Always the generic wording."""
        return None


#: The default wording.
PLAIN: Describer[Any] = PlainDescriber()


def _attach(name: str, versions: VersionSet) -> str:
    return f"{name}{versions}" if versions.attaches_to_name else f"{name} ({versions})"


def describe_term(term: Term[K], *, every: bool = False, describer: Describer[K] = PLAIN) -> str:
    """Name a term's package and versions (the sentence carries its polarity):
    ``requests>=2.0``, ``requests 2.31.0``, ``requests``; with `every`, a term covering
    several versions and no specifier reads ``every version of requests``."""
    name = describer.package(term.package)
    versions = term.versions
    if versions.label:
        return _attach(name, versions)
    if versions.is_empty and len(versions.universe):
        return f"{name} (no version)"
    # A selected version is worth naming; a requirement on any version is not.
    if len(versions) == 1 and (term.positive or not versions.is_any):
        return f"{name} {versions.versions[0]}"
    if versions.is_any:
        return f"every version of {name}" if every else name
    return _attach(name, versions)


def _set_text(versions: VersionSet) -> str:
    return versions.label or (
        "the requirement" if versions.is_empty else versions.universe.describe(versions.mask)
    )


def _positives(incompatibility: Incompatibility[K]) -> list[Term[K]]:
    return [term for term in incompatibility.terms if term.positive]


def _negatives(incompatibility: Incompatibility[K]) -> list[Term[K]]:
    return [term for term in incompatibility.terms if not term.positive]


def _single(terms: Sequence[Term[K]]) -> Term[K] | None:
    return terms[0] if len(terms) == 1 else None


def _terms(terms: Iterable[Term[K]], joiner: str, describer: Describer[K]) -> str:
    return joiner.join(describe_term(term, describer=describer) for term in terms)


def _lead(incompatibility: Incompatibility[K], describer: Describer[K]) -> str | None:
    """The subject and verb for the positive side: ``foo 1.0 depends on``, ``you require``."""
    positives = _positives(incompatibility)
    if not positives:
        return "you require" if isinstance(incompatibility.cause, Requested) else None
    if len(positives) > 1:
        return f"if {_terms(positives, ' and ', describer)} then"
    verb = "depends on" if isinstance(incompatibility.cause, DependsOn) else "requires"
    return f"{describe_term(positives[0], every=True, describer=describer)} {verb}"


def describe(incompatibility: Incompatibility[K], describer: Describer[K] = PLAIN) -> str:
    """One incompatibility as a clause: ``foo 1.0 depends on bar>=2``."""
    cause = incompatibility.cause
    if isinstance(cause, DependsOn):
        depender = Term(cause.depender, cause.depender_versions)
        target = Term(cause.package, cause.versions, False)
        return (
            f"{describe_term(depender, every=True, describer=describer)} depends on "
            f"{describe_term(target, describer=describer)}"
        )
    if isinstance(cause, Requested):
        target = Term(cause.package, cause.versions, False)
        return f"you require {describe_term(target, describer=describer)}"
    if isinstance(cause, NoVersions):
        name = describer.package(cause.package)
        if cause.not_found:
            return f"no versions of {name} are available"
        clause = describer.no_versions(cause.package, cause.versions)
        if clause is not None:
            return f"{clause} {_set_text(cause.versions)}"
        return f"no versions of {name} match {_set_text(cause.versions)}"
    if isinstance(cause, UnavailableVersion):
        reason = f" ({cause.reason})" if cause.reason else ""
        return f"{describer.package(cause.package)} {cause.version} is unavailable{reason}"
    terms = incompatibility.terms
    if not terms:
        return "the request cannot be satisfied"
    if len(terms) == 1:
        term = terms[0]
        if not term.positive:
            return f"{describe_term(term, describer=describer)} is required"
        if term.versions.is_any and len(term.versions) > 1:
            return f"no version of {describer.package(term.package)} can be used"
        return f"{describe_term(term, every=True, describer=describer)} cannot be used"
    positives = [describe_term(term, describer=describer) for term in _positives(incompatibility)]
    negatives = [describe_term(term, describer=describer) for term in _negatives(incompatibility)]
    if len(terms) == 2 and len(positives) == 2:
        return f"{positives[0]} is incompatible with {positives[1]}"
    if len(terms) == 2 and len(negatives) == 2:
        return f"either {negatives[0]} or {negatives[1]} is required"
    if positives and negatives:
        return f"{_lead(incompatibility, describer)} {' or '.join(negatives)}"
    if positives:
        return f"{', '.join(positives[:-1])} and {positives[-1]} are incompatible"
    return f"one of {' or '.join(negatives)} is required"


def _ref(line: int | None) -> str:
    return "" if line is None else f" ({line})"


def describe_pair(
    first: Incompatibility[K],
    second: Incompatibility[K],
    first_line: int | None = None,
    second_line: int | None = None,
    describer: Describer[K] = PLAIN,
) -> str:
    """Two incompatibilities as one clause, merged when they read better together:
    ``you require both foo>=1 and bar<2``, ``foo 1.0 depends on bar>=2 which depends on
    baz<3``, ``foo 1.0 depends on bar>=9 which doesn't match any versions``."""
    if first is not second:
        for attempt in (_requires_both, _requires_through, _requires_forbidden):
            text = attempt(first, second, first_line, second_line, describer)
            if text is not None:
                return text
    return (
        f"{describe(first, describer)}{_ref(first_line)} and "
        f"{describe(second, describer)}{_ref(second_line)}"
    )


def _requires_both(
    first: Incompatibility[K],
    second: Incompatibility[K],
    first_line: int | None,
    second_line: int | None,
    describer: Describer[K],
) -> str | None:
    if isinstance(first.cause, Requested) and isinstance(second.cause, Requested):
        lead = "you require"
    else:
        if len(first.terms) == 1 or len(second.terms) == 1:
            return None
        first_positive = _single(_positives(first))
        second_positive = _single(_positives(second))
        if first_positive is None or second_positive is None:
            return None
        if first_positive != second_positive:
            return None
        both_dependencies = isinstance(first.cause, DependsOn) and isinstance(
            second.cause, DependsOn
        )
        verb = "depends on" if both_dependencies else "requires"
        lead = f"{describe_term(first_positive, every=True, describer=describer)} {verb}"
    first_negatives = _terms(_negatives(first), " or ", describer)
    second_negatives = _terms(_negatives(second), " or ", describer)
    return (
        f"{lead} both {first_negatives}{_ref(first_line)} and {second_negatives}{_ref(second_line)}"
    )


def _requires_through(
    first: Incompatibility[K],
    second: Incompatibility[K],
    first_line: int | None,
    second_line: int | None,
    describer: Describer[K],
) -> str | None:
    orders = (
        (first, first_line, second, second_line),
        (second, second_line, first, first_line),
    )
    for prior, prior_line, latter, latter_line in orders:
        # `prior` requires a package whose versions all lead to `latter`.
        prior_negative = _single(_negatives(prior))
        latter_positive = _single(_positives(latter))
        if (
            prior_negative is None
            or latter_positive is None
            or prior_negative.package != latter_positive.package
            or not prior_negative.negate().satisfies(latter_positive)
        ):
            continue
        lead = _lead(prior, describer)
        latter_negatives = _negatives(latter)
        if lead is None or not latter_negatives:
            return None
        verb = "depends on" if isinstance(latter.cause, DependsOn) else "requires"
        wanted = _terms(latter_negatives, " or ", describer)
        return (
            f"{lead} {describe_term(prior_negative, describer=describer)}{_ref(prior_line)} "
            f"which {verb} {wanted}{_ref(latter_line)}"
        )
    return None


def _requires_forbidden(
    first: Incompatibility[K],
    second: Incompatibility[K],
    first_line: int | None,
    second_line: int | None,
    describer: Describer[K],
) -> str | None:
    orders = []
    if len(second.terms) == 1:
        orders.append((first, first_line, second, second_line))
    if len(first.terms) == 1:
        orders.append((second, second_line, first, first_line))
    for prior, prior_line, latter, latter_line in orders:
        negative = _single(_negatives(prior))
        forbidden = latter.terms[0]
        if negative is None or not forbidden.positive:
            continue
        if not negative.negate().satisfies(forbidden):
            continue
        lead = _lead(prior, describer)
        if lead is None:
            continue
        cause = latter.cause
        target = f"{describe_term(negative, describer=describer)}{_ref(prior_line)}"
        if isinstance(cause, NoVersions):
            clause = describer.no_versions(cause.package, cause.versions)
            if cause.not_found:
                why = " which has no available versions"
            elif clause is not None:
                why = f", which {clause}"
            else:
                why = " which doesn't match any versions"
        elif isinstance(cause, UnavailableVersion):
            why = " which is unavailable" + (f" ({cause.reason})" if cause.reason else "")
        elif isinstance(cause, Conflict):
            why = " which cannot be used"
        else:
            continue
        return f"{lead} {target}{why}{_ref(latter_line)}"
    return None
