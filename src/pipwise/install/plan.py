"""The install plan: what a resolution changes in an environment (install, upgrade, keep)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from packaging.utils import NormalizedName

from pipwise.dists import DirectUrl, Pin, Resolution
from pipwise.install.installed import InstalledDistribution

__all__ = ["InstallPlan", "plan_install"]


@dataclass(frozen=True, slots=True)
class InstallPlan:
    """Pins sorted by what installing them does to the environment, in resolution order."""

    #: Not installed yet.
    install: tuple[Pin, ...]
    #: Installed at another version (upgrades and downgrades).
    upgrade: tuple[tuple[InstalledDistribution, Pin], ...]
    #: Installed at this version, but asked to reinstall or from another direct URL.
    reinstall: tuple[tuple[InstalledDistribution, Pin], ...]
    unchanged: tuple[InstalledDistribution, ...]


def plan_install(
    resolution: Resolution,
    installed: Sequence[InstalledDistribution],
    *,
    reinstall: bool = False,
) -> InstallPlan:
    """Compare ``resolution`` with what is ``installed``.

    Installed distributions the resolution does not pin are left out of the plan. When a
    name is installed twice, the first one in ``installed`` counts.
    """
    present: dict[NormalizedName, InstalledDistribution] = {}
    for found in installed:
        present.setdefault(found.canonical_name, found)
    install: list[Pin] = []
    upgrade: list[tuple[InstalledDistribution, Pin]] = []
    again: list[tuple[InstalledDistribution, Pin]] = []
    unchanged: list[InstalledDistribution] = []
    for name, pin in resolution.pins.items():
        dist = present.get(name)
        if dist is None:
            install.append(pin)
        elif dist.version != pin.version:
            upgrade.append((dist, pin))
        elif reinstall or not _same_source(pin.direct_url, dist.direct_url):
            again.append((dist, pin))
        else:
            unchanged.append(dist)
    return InstallPlan(tuple(install), tuple(upgrade), tuple(again), tuple(unchanged))


def _same_source(wanted: DirectUrl | None, have: DirectUrl | None) -> bool:
    # A pin from an index is satisfied by any install of its version; a URL pin only by an
    # install from that URL (PEP 610 info included, so a new VCS commit counts as different).
    if wanted is None:
        return True
    return have is not None and wanted.url == have.url and dict(wanted.info) == dict(have.info)
