"""The PubGrub solver: unit propagation, conflict resolution with learning, decisions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic

from packaging.version import Version

from .failure import SolverFailure
from .incompatibility import (
    Conflict,
    DependsOn,
    Incompatibility,
    NoVersions,
    Requested,
    UnavailableVersion,
)
from .partial_solution import PartialSolution
from .provider import Dependency, Provider, Unavailable
from .reporter import BaseReporter, Reporter
from .term import K, Term
from .version_set import Universe, VersionSet

__all__ = ["Solver", "SolverBudgetExceeded", "solve"]


class SolverBudgetExceeded(Exception, Generic[K]):
    """The solver took more than its `max_steps` decisions and conflict resolutions."""

    def __init__(self, package: K | None, steps: int) -> None:
        self.package = package
        self.steps = steps
        where = "" if package is None else f" while working on {package}"
        super().__init__(f"gave up after {steps} steps{where}")


def solve(
    provider: Provider[K],
    root_dependencies: Sequence[Dependency[K]],
    reporter: Reporter[K] | None = None,
    max_steps: int | None = None,
) -> dict[K, Version]:
    """Select one version of each needed package so that `root_dependencies` (the
    request) and the dependencies of every selected version hold.

    Raises `SolverFailure` (with an `Explanation`) when no selection exists, and
    `SolverBudgetExceeded` after `max_steps` decisions and conflicts. Exceptions the
    provider raises (other than `Unavailable`) propagate unchanged.

    >>> from packaging.version import Version as V
    >>> class Index:
    ...     def versions(self, package): return [V("2.0"), V("1.0")]
    ...     def dependencies(self, package, version): return []
    >>> solve(Index(), [Dependency("foo", lambda v: v < V("2"), "<2")])
    {'foo': <Version('1.0')>}
    """
    return Solver(provider, reporter, max_steps).solve(root_dependencies)


class Solver(Generic[K]):
    """One PubGrub run over a provider (pub's ``doc/solver.md``, "The Algorithm").

    The request is not a package: each requirement is an incompatibility
    ``{not package versions}``, and the empty incompatibility means failure. Decisions
    take the package with the fewest allowed versions (ties: the one heard of first) at
    the provider's most preferred allowed version.
    """

    def __init__(
        self,
        provider: Provider[K],
        reporter: Reporter[K] | None = None,
        max_steps: int | None = None,
    ) -> None:
        self._provider = provider
        self._reporter: Reporter[K] = reporter if reporter is not None else BaseReporter()
        self._max_steps = max_steps
        self._solution: PartialSolution[K] = PartialSolution()
        self._incompatibilities: dict[K, list[Incompatibility[K]]] = {}
        self._universes: dict[K, Universe] = {}
        #: Order in which packages were first heard of: the decision tie-breaker.
        self._appearance: dict[K, int] = {}
        self._dependencies: dict[tuple[K, Version], list[Incompatibility[K]]] = {}
        self._steps = 0
        self._used = False

    @property
    def steps(self) -> int:
        """How many decisions and conflict resolutions the run has taken so far."""
        return self._steps

    def solve(self, root_dependencies: Sequence[Dependency[K]]) -> dict[K, Version]:
        """Run the solver once; see `solve`."""
        if self._used:
            raise RuntimeError("a Solver runs once; create another one")
        self._used = True
        self._reporter.starting()
        changed: dict[K, None] = {}
        for requirement in root_dependencies:
            package = requirement.package
            versions = self._universe(package).matching(requirement.versions, requirement.label)
            requested = Incompatibility(
                (Term(package, versions, False),), Requested(package, versions)
            )
            if versions.is_empty:
                raise SolverFailure(self._without_versions(requested, package, versions))
            self._add(requested)
            changed[package] = None
        while True:
            self._propagate(changed)
            term = self._choose()
            if term is None:
                break
            self._step(term.package)
            self._decide(term)
            changed = {term.package: None}
        solution = self._solution.decisions()
        self._reporter.resolved(solution)
        return solution

    # -- unit propagation ---------------------------------------------------------------

    def _propagate(self, changed: dict[K, None]) -> None:
        while changed:
            package, _ = changed.popitem()
            # Newest first: learned incompatibilities tend to be the most general.
            for incompatibility in reversed(self._incompatibilities.get(package, ())):
                conflict, derived = self._propagate_one(incompatibility)
                if conflict:
                    self._step(package)
                    cause = self._resolve(incompatibility)
                    conflict, derived = self._propagate_one(cause)
                    if conflict or derived is None:
                        raise AssertionError("a learned incompatibility did not propagate")
                    changed.clear()
                    changed[derived] = None
                    break
                if derived is not None:
                    changed[derived] = None

    def _propagate_one(self, incompatibility: Incompatibility[K]) -> tuple[bool, K | None]:
        """Derive the negation of the one open term, if all the others hold.

        Returns (True, None) when every term holds: a conflict.
        """
        conflict, unsatisfied = self._solution.open_term(incompatibility)
        if unsatisfied is None:
            return conflict, None
        self._solution.derive(unsatisfied.negate(), incompatibility)
        return False, unsatisfied.package

    # -- conflict resolution ------------------------------------------------------------

    def _resolve(self, incompatibility: Incompatibility[K]) -> Incompatibility[K]:
        """Find the root cause of a satisfied `incompatibility`, learn it and backjump.

        Returns an incompatibility the backjumped solution almost satisfies; raises
        `SolverFailure` when the root cause is the empty incompatibility.
        """
        learned = False
        while not incompatibility.is_failure:
            satisfier, previous = self._solution.satisfier(incompatibility)
            level = 0 if previous is None else previous.level
            if satisfier.cause is None or level != satisfier.level:
                if learned:
                    self._add(incompatibility)
                self._solution.backtrack(level)
                self._reporter.backtracking(satisfier.package, incompatibility)
                return incompatibility
            package = satisfier.package
            term = incompatibility.term_for(package)
            assert term is not None
            terms = [t for t in incompatibility.terms if t.package != package]
            terms += [t for t in satisfier.cause.terms if t.package != package]
            if not satisfier.term.satisfies(term):
                # From {t1, q} and {t2, r} follows {q, r, t1 or t2}; here "t1 or t2"
                # is not (satisfier minus term) ("Conflict Resolution" in solver.md).
                terms.append(satisfier.term.difference(term).negate())
            incompatibility = Incompatibility.of(terms, Conflict(incompatibility, satisfier.cause))
            learned = True
        raise SolverFailure(incompatibility)

    # -- decisions ----------------------------------------------------------------------

    def _choose(self) -> Term[K] | None:
        """The undecided package with the fewest allowed versions, as its known term."""
        best: Term[K] | None = None
        best_key = (0, 0)
        appearance = self._appearance
        for term in self._solution.undecided():
            key = (term.versions.mask.bit_count(), appearance[term.package])
            if best is None or key < best_key:
                best, best_key = term, key
        return best

    def _decide(self, term: Term[K]) -> None:
        package = term.package
        universe = term.versions.universe
        version = universe.first_preferred(term.versions.mask)
        if version is None:
            self._add(Incompatibility((term,), NoVersions(package, term.versions)))
            return
        decision = Term(package, universe.singleton(version))
        satisfies = self._solution.satisfies
        for incompatibility in self._dependencies_of(package, version):
            # Deciding would satisfy this incompatibility: leave the version to unit
            # propagation, which will now rule it out.
            if all(
                decision.satisfies(t) if t.package == package else satisfies(t)
                for t in incompatibility.terms
            ):
                return
        self._solution.decide(package, decision.versions)
        self._reporter.deciding(package, version)

    def _dependencies_of(self, package: K, version: Version) -> list[Incompatibility[K]]:
        """The incompatibilities for `version`'s dependencies, added once and cached."""
        key = (package, version)
        cached = self._dependencies.get(key)
        if cached is not None:
            return cached
        depender = self._universes[package].singleton(version)
        found: list[Incompatibility[K]] = []
        try:
            dependencies = self._provider.dependencies(package, version)
        except Unavailable as exc:
            cause = UnavailableVersion(package, version, exc.reason)
            found.append(Incompatibility((Term(package, depender),), cause))
        else:
            for dependency in dependencies:
                target = dependency.package
                versions = self._universe(target).matching(dependency.versions, dependency.label)
                edge = DependsOn(package, depender, target, versions)
                if target == package:
                    # A package depending on itself: harmless when the range holds the
                    # version, and otherwise it rules the version out.
                    if version not in versions:
                        found.append(Incompatibility((Term(package, depender),), edge))
                    continue
                terms = (Term(package, depender), Term(target, versions, False))
                incompatibility = Incompatibility(terms, edge)
                if versions.is_empty:
                    incompatibility = self._without_versions(incompatibility, target, versions)
                found.append(incompatibility)
        for incompatibility in found:
            self._add(incompatibility)
        self._dependencies[key] = found
        return found

    def _without_versions(
        self, incompatibility: Incompatibility[K], package: K, versions: VersionSet
    ) -> Incompatibility[K]:
        """Resolve `incompatibility` against "no versions of `package` in `versions`".

        A requirement no version meets would otherwise be derived as a positive term
        over the empty set, which satisfies every term, itself included. Resolving it
        up front keeps such terms out of the partial solution, and the explanation
        still cites both facts.
        """
        missing = Incompatibility((Term(package, versions),), NoVersions(package, versions))
        rest = [term for term in incompatibility.terms if term.package != package]
        return Incompatibility.of(rest, Conflict(missing, incompatibility))

    # -- bookkeeping --------------------------------------------------------------------

    def _universe(self, package: K) -> Universe:
        universe = self._universes.get(package)
        if universe is None:
            universe = Universe(self._provider.versions(package))
            self._universes[package] = universe
            self._appearance[package] = len(self._appearance)
        return universe

    def _add(self, incompatibility: Incompatibility[K]) -> None:
        for term in incompatibility.terms:
            self._incompatibilities.setdefault(term.package, []).append(incompatibility)

    def _step(self, package: K | None) -> None:
        self._steps += 1
        if self._max_steps is not None and self._steps > self._max_steps:
            raise SolverBudgetExceeded(package, self._max_steps)
