"""Sets of versions of one package, as exact subsets of the versions its index lists."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field

from packaging.version import Version

__all__ = ["Universe", "VersionMatcher", "VersionSet"]

#: How a host says which versions a dependency accepts: a predicate such as
#: ``lambda v: specifier.contains(v, prereleases=True)``, an explicit collection of
#: versions, or None for any version.
VersionMatcher = Callable[[Version], bool] | Collection[Version] | None

#: First characters of a set's text that make it follow the package name directly.
_ATTACHED = frozenset("<>=!~ ")
#: At most this many excluded versions are written as ``!=`` clauses.
_MAX_EXCLUSIONS = 3


class Universe:
    """Every version of one package the host offers: the sets of that package are its subsets.

    Set algebra is exact because every operation stays inside this finite universe: the
    complement of a set is the universe minus the set, whatever PEP 440 would make of
    local versions, ``!=1.*`` or ``===``. Sets are bit masks over the versions sorted
    ascending, so intersection, union and subset tests are integer operations.

    >>> u = Universe([Version("2.0"), Version("1.0"), Version("1.5")])
    >>> str(u.matching(lambda v: v >= Version("1.5")))
    '>=1.5'
    >>> u.preferred
    (<Version('2.0')>, <Version('1.0')>, <Version('1.5')>)
    """

    __slots__ = ("_index", "_order", "_versions", "full_mask")

    def __init__(self, versions: Iterable[Version]) -> None:
        """Build from the host's versions, most preferred first (duplicates are dropped)."""
        preferred: list[Version] = []
        seen: set[Version] = set()
        for version in versions:
            if version not in seen:
                seen.add(version)
                preferred.append(version)
        self._versions: tuple[Version, ...] = tuple(sorted(preferred))
        self._index: dict[Version, int] = {v: i for i, v in enumerate(self._versions)}
        self._order: tuple[int, ...] = tuple(self._index[v] for v in preferred)
        #: The mask with every version's bit set.
        self.full_mask: int = (1 << len(self._versions)) - 1

    @property
    def versions(self) -> tuple[Version, ...]:
        """The versions, ascending."""
        return self._versions

    @property
    def preferred(self) -> tuple[Version, ...]:
        """The versions in the host's order of preference."""
        return tuple(self._versions[i] for i in self._order)

    def __len__(self) -> int:
        return len(self._versions)

    def __contains__(self, version: object) -> bool:
        return version in self._index

    def __repr__(self) -> str:
        return f"Universe({', '.join(str(v) for v in self._versions)})"

    def bit(self, version: Version) -> int:
        """The mask of the single `version`; 0 when it is not in the universe."""
        index = self._index.get(version)
        return 0 if index is None else 1 << index

    def everything(self, label: str | None = None) -> VersionSet:
        """The set of every version."""
        return VersionSet(self, self.full_mask, label or None)

    def nothing(self, label: str | None = None) -> VersionSet:
        """The empty set (shown by its label when it came from a requirement)."""
        return VersionSet(self, 0, label or None)

    def singleton(self, version: Version) -> VersionSet:
        """The set holding exactly `version`, which must be in the universe."""
        return VersionSet(self, 1 << self._index[version])

    def of(self, versions: Iterable[Version], label: str | None = None) -> VersionSet:
        """The set of the given versions that the universe holds."""
        mask = 0
        for version in versions:
            mask |= self.bit(version)
        return VersionSet(self, mask, label or None)

    def matching(self, matcher: VersionMatcher, label: str | None = None) -> VersionSet:
        """Materialise a host's `matcher` (predicate, collection or None) over the universe."""
        if matcher is None:
            return self.everything(label)
        if callable(matcher):
            mask = 0
            for index, version in enumerate(self._versions):
                if matcher(version):
                    mask |= 1 << index
            return VersionSet(self, mask, label or None)
        return self.of(matcher, label)

    def first_preferred(self, mask: int) -> Version | None:
        """The most preferred version whose bit is set in `mask`, if any."""
        for index in self._order:
            if mask >> index & 1:
                return self._versions[index]
        return None

    def describe(self, mask: int) -> str:
        """Write `mask` as compact ranges over the known versions: ``>=2.0,<3.0``, ``==1.4``,
        ``1.0, 1.2 or 2.0``, ``!=1.5``, or ``any version`` / ``no version``."""
        if mask == self.full_mask and mask:
            return "any version"
        if not mask:
            return "no version"
        runs = _runs(mask, len(self._versions))
        if all(start == end for start, end in runs):
            if len(runs) == 1:
                return f"=={self._versions[runs[0][0]]}"
            names = [str(self._versions[start]) for start, _ in runs]
            text = f"{', '.join(names[:-1])} or {names[-1]}"
        else:
            text = " or ".join(self._describe_run(start, end) for start, end in runs)
        excluded = _runs(self.full_mask & ~mask, len(self._versions))
        if len(excluded) < min(len(runs), _MAX_EXCLUSIONS + 1) and all(
            start == end for start, end in excluded
        ):
            return ",".join(f"!={self._versions[start]}" for start, _ in excluded)
        return text

    def _describe_run(self, start: int, end: int) -> str:
        if start == end:
            return f"=={self._versions[start]}"
        bounds = []
        if start > 0:
            bounds.append(f">={self._versions[start]}")
        if end < len(self._versions) - 1:
            bounds.append(f"<{self._versions[end + 1]}")
        return ",".join(bounds)


def _runs(mask: int, size: int) -> list[tuple[int, int]]:
    """Maximal runs of consecutive set bits, as inclusive (start, end) index pairs."""
    runs: list[tuple[int, int]] = []
    index = 0
    while mask >> index:
        if not mask >> index & 1:
            # Skip the zeros below the next set bit in one step.
            rest = mask >> index
            index += (rest & -rest).bit_length() - 1
            continue
        start = index
        while index < size and mask >> index & 1:
            index += 1
        runs.append((start, index - 1))
    return runs


@dataclass(frozen=True, slots=True)
class VersionSet:
    """A set of versions of one package: a subset of its `Universe`.

    Two sets are equal when they hold the same versions of the same universe; the
    `label` (the specifier text a dependency was written with) only changes how the set
    is shown. Set algebra happens on terms (`Term.intersect`), over the masks.
    """

    universe: Universe = field(repr=False)
    mask: int
    label: str | None = field(default=None, compare=False)

    # -- queries ----------------------------------------------------------------------

    @property
    def is_empty(self) -> bool:
        """True when the set holds no version."""
        return not self.mask

    @property
    def is_any(self) -> bool:
        """True when the set holds every version of the universe."""
        return self.mask == self.universe.full_mask

    @property
    def versions(self) -> tuple[Version, ...]:
        """The versions in the set, ascending."""
        return tuple(self)

    def __len__(self) -> int:
        return self.mask.bit_count()

    def __iter__(self) -> Iterator[Version]:
        versions = self.universe.versions
        mask = self.mask
        index = 0
        while mask:
            if mask & 1:
                yield versions[index]
            mask >>= 1
            index += 1

    def __contains__(self, version: object) -> bool:
        if not isinstance(version, Version):
            return False
        return bool(self.mask & self.universe.bit(version))

    def isdisjoint(self, other: VersionSet) -> bool:
        """True when the two sets share no version."""
        self._check(other)
        return not self.mask & other.mask

    def _check(self, other: VersionSet) -> None:
        if other.universe is not self.universe:
            raise ValueError("version sets of different packages cannot be combined")

    # -- rendering --------------------------------------------------------------------

    def __str__(self) -> str:
        """The label when there is one, else compact ranges over the known versions."""
        if self.label is not None:
            return self.label
        return self.universe.describe(self.mask)

    def __repr__(self) -> str:
        return f"VersionSet({str(self)!r})"

    @property
    def attaches_to_name(self) -> bool:
        """True when the text follows the package name directly: it begins with a
        comparison operator (``>=1.0``) or, as a host's label may, with a space
        (`` @ https://...``). Other text (``1.0 or 2.0``) is set apart from the name."""
        text = str(self)
        return bool(text) and text[0] in _ATTACHED
