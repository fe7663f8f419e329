"""A pure PubGrub version solver: opaque package keys, `packaging` versions, no I/O."""

from __future__ import annotations

from .failure import Explanation, Line, SolverFailure, explain
from .incompatibility import (
    PLAIN,
    Cause,
    Conflict,
    DependsOn,
    Describer,
    ExternalCause,
    Incompatibility,
    NoVersions,
    PlainDescriber,
    Requested,
    UnavailableVersion,
)
from .provider import Dependency, Provider, Unavailable
from .reporter import BaseReporter, Reporter
from .solver import Solver, SolverBudgetExceeded, solve
from .term import Term
from .version_set import Universe, VersionMatcher, VersionSet

__all__ = [
    "PLAIN",
    "BaseReporter",
    "Cause",
    "Conflict",
    "Dependency",
    "DependsOn",
    "Describer",
    "Explanation",
    "ExternalCause",
    "Incompatibility",
    "Line",
    "NoVersions",
    "PlainDescriber",
    "Provider",
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
