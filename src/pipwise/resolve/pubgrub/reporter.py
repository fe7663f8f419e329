"""What the solver tells the host as it works: a reporter protocol and a no-op default."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Generic, Protocol

from packaging.version import Version

from .incompatibility import Incompatibility
from .term import K

__all__ = ["BaseReporter", "Reporter"]


class Reporter(Protocol[K]):
    """Progress events, for progress bars and ``--verbose`` traces (compare resolvelib's
    ``BaseReporter``). Implementations must not raise."""

    def starting(self) -> None:
        """Solving begins."""
        ...

    def deciding(self, package: K, version: Version) -> None:
        """`version` of `package` was selected, tentatively."""
        ...

    def backtracking(self, package: K, cause: Incompatibility[K]) -> None:
        """A conflict over `package` undid decisions; `cause` is what was learned."""
        ...

    def resolved(self, solution: Mapping[K, Version]) -> None:
        """Solving succeeded with `solution`."""
        ...


class BaseReporter(Generic[K]):
    """A reporter that ignores every event; subclass it to hear about a few."""

    def starting(self) -> None:
        """Solving begins."""

    def deciding(self, package: K, version: Version) -> None:
        """`version` of `package` was selected, tentatively."""

    def backtracking(self, package: K, cause: Incompatibility[K]) -> None:
        """A conflict over `package` undid decisions; `cause` is what was learned."""

    def resolved(self, solution: Mapping[K, Version]) -> None:
        """Solving succeeded with `solution`."""
