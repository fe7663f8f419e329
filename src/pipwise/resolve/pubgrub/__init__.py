"""A pure PubGrub version solver: opaque package keys, `packaging` versions, no I/O."""

from __future__ import annotations

from .failure import Explanation, Line, SolverFailure, explain
from .incompatibility import (
    Cause,
    Conflict,
    DependsOn,
    ExternalCause,
    Incompatibility,
    NoVersions,
    Requested,
    UnavailableVersion,
)
from .provider import Dependency, Provider, Unavailable
from .reporter import BaseReporter, Reporter
from .solver import Solver, SolverBudgetExceeded, solve
from .term import Relation, Term
from .version_set import Universe, VersionMatcher, VersionSet

__all__ = [
    "BaseReporter",
    "Cause",
    "Conflict",
    "Dependency",
    "DependsOn",
    "Explanation",
    "ExternalCause",
    "Incompatibility",
    "Line",
    "NoVersions",
    "Provider",
    "Relation",
    "Reporter",
    "Requested",
    "Solver",
    "SolverBudgetExceeded",
    "SolverFailure",
    "Term",
    "Unavailable",
    "UnavailableVersion",
    "Universe",
    "VersionMatcher",
    "VersionSet",
    "explain",
    "solve",
]
