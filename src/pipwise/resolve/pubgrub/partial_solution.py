"""The partial solution: assignments in order, their decision levels, and satisfier lookup."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Generic

from packaging.version import Version

from .incompatibility import Incompatibility
from .term import K, Term
from .version_set import VersionSet

__all__ = ["Assignment", "PartialSolution"]


@dataclass(frozen=True, slots=True)
class Assignment(Generic[K]):
    """A decision (`cause` is None) or a derivation, at a position and decision level."""

    term: Term[K]
    level: int
    index: int
    cause: Incompatibility[K] | None

    @property
    def package(self) -> K:
        return self.term.package


class _History(Generic[K]):
    """One package's assignments, each with the intersection of the terms up to it."""

    __slots__ = ("assignments", "decision", "known", "mask", "positive")

    def __init__(self) -> None:
        self.assignments: list[Assignment[K]] = []
        #: known[i] is the intersection of assignments[0..i]'s terms.
        self.known: list[Term[K]] = []
        self.decision: Version | None = None
        # known[-1] unpacked, for the unit propagation loop.
        self.positive = True
        self.mask = 0

    def update(self) -> None:
        last = self.known[-1]
        self.positive = last.positive
        self.mask = last.versions.mask

    def earliest_satisfying(self, term: Term[K]) -> int:
        """The position of the first assignment after which `term` is satisfied.

        Intersections only shrink, so satisfaction is monotonic: a binary search works.
        The caller guarantees the whole history satisfies `term`.
        """
        low, high = 0, len(self.known) - 1
        while low < high:
            middle = (low + high) // 2
            if self.known[middle].satisfies(term):
                high = middle
            else:
                low = middle + 1
        return low


class PartialSolution(Generic[K]):
    """PubGrub's partial solution (pub's ``doc/solver.md``, "Partial Solution").

    Assignments are kept in one list, and per package in a history holding the running
    intersection of its terms, so that relations and satisfiers are found by looking at
    one package rather than scanning the whole solution.
    """

    def __init__(self) -> None:
        self._assignments: list[Assignment[K]] = []
        self._histories: dict[K, _History[K]] = {}
        #: The number of decisions in the solution.
        self.level = 0

    # -- changes ------------------------------------------------------------------------

    def decide(self, package: K, versions: VersionSet) -> None:
        """Select the single version in `versions` for `package`, opening a new level."""
        (version,) = versions.versions
        self.level += 1
        history = self._assign(Term(package, versions), None)
        history.decision = version

    def derive(self, term: Term[K], cause: Incompatibility[K]) -> None:
        """Record `term` as a consequence of `cause`, at the current level."""
        self._assign(term, cause)

    def _assign(self, term: Term[K], cause: Incompatibility[K] | None) -> _History[K]:
        assignment = Assignment(term, self.level, len(self._assignments), cause)
        self._assignments.append(assignment)
        history = self._histories.get(term.package)
        if history is None:
            history = self._histories[term.package] = _History()
            known = term
        else:
            known = history.known[-1].intersect(term)
        history.assignments.append(assignment)
        history.known.append(known)
        history.update()
        return history

    def backtrack(self, level: int) -> None:
        """Remove every assignment made above decision `level`."""
        assignments = self._assignments
        while assignments and assignments[-1].level > level:
            assignment = assignments.pop()
            history = self._histories[assignment.package]
            history.assignments.pop()
            history.known.pop()
            if assignment.cause is None:
                history.decision = None
            if history.assignments:
                history.update()
            else:
                del self._histories[assignment.package]
        self.level = level

    # -- queries ------------------------------------------------------------------------

    def open_term(self, incompatibility: Incompatibility[K]) -> tuple[bool, Term[K] | None]:
        """Unit propagation's question: (True, None) when every term is satisfied;
        (False, term) when all but `term` are satisfied and `term` is inconclusive;
        (False, None) otherwise.

        This is `Term.satisfies` and its converse over each term, inlined because it is the
        solver's hot loop.
        """
        histories = self._histories
        unsatisfied: Term[K] | None = None
        for term in incompatibility.terms:
            history = histories.get(term.package)
            if history is not None:
                a = history.mask
                b = term.versions.mask
                if history.positive:
                    if term.positive:
                        if not a & ~b:
                            continue
                        if not a & b:
                            return False, None
                    else:
                        if not a & b:
                            continue
                        if not a & ~b:
                            return False, None
                elif term.positive:
                    if not b & ~a:
                        return False, None
                elif not b & ~a:
                    continue
            if unsatisfied is not None:
                return False, None
            unsatisfied = term
        return unsatisfied is None, unsatisfied

    def satisfies(self, term: Term[K]) -> bool:
        """True when the assignments make `term` true."""
        history = self._histories.get(term.package)
        return history is not None and history.known[-1].satisfies(term)

    def undecided(self) -> Iterator[Term[K]]:
        """Packages that must be selected but have no decision, as their known terms."""
        for history in self._histories.values():
            if history.decision is None:
                known = history.known[-1]
                if known.positive:
                    yield known

    def decisions(self) -> dict[K, Version]:
        """The selected version of every decided package."""
        return {
            package: history.decision
            for package, history in self._histories.items()
            if history.decision is not None
        }

    def satisfier(
        self, incompatibility: Incompatibility[K]
    ) -> tuple[Assignment[K], Assignment[K] | None]:
        """The earliest assignment after which `incompatibility` is satisfied, and the
        earliest one before it that, together with it, still satisfies it (or None).

        The incompatibility must be satisfied by the whole partial solution.
        """
        found: list[tuple[Term[K], _History[K], int]] = []
        satisfier: Assignment[K] | None = None
        for term in incompatibility.terms:
            history = self._histories[term.package]
            position = history.earliest_satisfying(term)
            found.append((term, history, position))
            candidate = history.assignments[position]
            if satisfier is None or candidate.index > satisfier.index:
                satisfier = candidate
        assert satisfier is not None, "the empty incompatibility has no satisfier"

        previous: Assignment[K] | None = None
        for term, history, position in found:
            if term.package != satisfier.package:
                candidate = history.assignments[position]
            elif satisfier.term.satisfies(term):
                continue
            else:
                # The satisfier only completes what earlier assignments to the same
                # package started (``foo >=1`` then ``foo <2`` satisfying ``foo ^1``).
                candidate = next(
                    history.assignments[i]
                    for i in range(position)
                    if history.known[i].intersect(satisfier.term).satisfies(term)
                )
            if previous is None or candidate.index > previous.index:
                previous = candidate
        return satisfier, previous
