"""What the host supplies: a provider of versions and dependencies, and its value types."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Protocol

from packaging.version import Version

from .term import K
from .version_set import VersionMatcher

__all__ = ["Dependency", "Provider", "Unavailable"]


@dataclass(frozen=True, slots=True)
class Dependency(Generic[K]):
    """A requirement on `package`: the versions `versions` accepts, shown as `label`.

    `versions` is a predicate (the host passes ``lambda v: spec.contains(v,
    prereleases=True)`` or similar), an explicit collection of versions, or None for any
    version. The solver evaluates it over the package's known versions. `label` is the
    text explanations use for the range (``>=2.4.2,<3.0.0``); without one they show
    compact ranges over the known versions.
    """

    package: K
    versions: VersionMatcher = None
    label: str | None = None


class Unavailable(Exception):
    """Raised by `Provider.dependencies` when a version cannot be used at all.

    The solver then avoids that version and cites `reason` when it explains a failure:
    ``foo 1.0 is unavailable (requires Python >=3.12)``.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Provider(Protocol[K]):
    """The host's view of an index (compare resolvelib's ``AbstractProvider``)."""

    def versions(self, package: K) -> Sequence[Version]:
        """Every version of `package` the host allows, most preferred first.

        Policy (pre-releases, yanked files, Requires-Python, platform) is the host's: a
        version left out here does not exist for the solver. An empty sequence means the
        package has no versions (not found). Host exceptions propagate unchanged.
        """
        ...

    def dependencies(self, package: K, version: Version) -> Sequence[Dependency[K]]:
        """The dependencies of `version` of `package`.

        Raise `Unavailable` when this version cannot be used; any other exception
        propagates unchanged.
        """
        ...
