"""Terms: a statement that a package is (or is not) selected at a version in a set."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from .version_set import VersionSet

__all__ = ["K", "Term"]

#: A package key: opaque and hashable (the host uses names such as ``requests[socks]``).
K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Term(Generic[K]):
    """``package versions`` (positive) or ``not package versions`` (negative).

    A positive term is true when the package is selected at a version in the set. A
    negative term is true when the package is not selected at all, or is selected at a
    version outside the set; so ``not foo <no version>`` always holds and ``foo <no
    version>`` never does. The set algebra below follows from that reading
    (pub's ``doc/solver.md``, "Term").
    """

    package: K
    versions: VersionSet
    positive: bool = True

    def negate(self) -> Term[K]:
        """The opposite term, over the same set."""
        return Term(self.package, self.versions, not self.positive)

    def satisfies(self, other: Term[K]) -> bool:
        """True when this term being true makes `other` true (this ⊆ other)."""
        a, b = self.versions.mask, other.versions.mask
        if self.positive:
            return not a & ~b if other.positive else not a & b
        # A negative term allows "not selected", which no positive term does.
        return False if other.positive else not b & ~a

    def intersect(self, other: Term[K]) -> Term[K]:
        """The term true exactly when both terms are."""
        self._check(other)
        a, b = self.versions.mask, other.versions.mask
        if self.positive and other.positive:
            return self._make(True, a & b, other)
        if self.positive:
            return self._make(True, a & ~b, other)
        if other.positive:
            return self._make(True, b & ~a, other)
        return self._make(False, a | b, other)

    def difference(self, other: Term[K]) -> Term[K]:
        """The term true when this one is and `other` is not."""
        return self.intersect(other.negate())

    def _make(self, positive: bool, mask: int, other: Term[K]) -> Term[K]:
        # Hand back an operand when the result equals it, so that a dependency's
        # specifier text (the set's label) survives into derived facts.
        candidates = (self, other) if self.versions.label is not None else (other, self)
        for term in candidates:
            if term.positive == positive and term.versions.mask == mask:
                return term
        return Term(self.package, VersionSet(self.versions.universe, mask), positive)

    def _check(self, other: Term[K]) -> None:
        if other.package != self.package:
            raise ValueError(f"terms of {self.package!r} and {other.package!r} cannot be combined")

    def __str__(self) -> str:
        separator = "" if self.versions.attaches_to_name else " "
        text = f"{self.package}{separator}{self.versions}"
        return text if self.positive else f"not {text}"
