"""What an install plan would break: requirements of distributions that stay, checked first."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from pipwise.dists import Pin
from pipwise.install.installed import InstalledDistribution
from pipwise.install.plan import InstallPlan
from pipwise.target import Target

__all__ = ["Breakage", "check_plan"]


@dataclass(frozen=True, slots=True)
class Breakage:
    """A requirement of an installed distribution that holds now and would not after the plan."""

    #: The distribution that stays in the environment.
    dist: InstalledDistribution
    #: Its ``Requires-Dist`` entry that the plan breaks.
    requirement: Requirement
    #: The version installed now (which satisfies ``requirement``).
    before: Version
    #: The pin that replaces it (which does not).
    after: Pin

    @property
    def wanted(self) -> str:
        """The requirement without its marker: ``werkzeug<3``, ``rich[jupyter]>=13``."""
        req = self.requirement
        extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
        return f"{req.name}{extras}{req.specifier}"

    def describe(self) -> str:
        """``flask 2.0 requires werkzeug<3; the plan installs werkzeug 3.1``."""
        return (
            f"{self.dist.name} {self.dist.raw_version} requires {self.wanted}; "
            f"the plan installs {self.after.name} {self.after.version}"
        )


def check_plan(
    installed: Sequence[InstalledDistribution],
    plan: InstallPlan,
    target: Target | Mapping[str, str],
) -> list[Breakage]:
    """The requirements of ``installed`` distributions the plan keeps that it would break.

    A distribution stays unless the plan replaces its name. Each of its requirements that
    applies on ``target`` (a target or its marker environment; see
    `InstalledDistribution.requirements_for`) is checked when it names a package the plan
    installs, upgrades or reinstalls: it is broken when the installed version satisfies it
    (pre-releases allowed) and the planned one does not. Requirements that were already
    unmet are not the plan's doing and are left alone.
    """
    planned: dict[NormalizedName, Pin] = {pin.name: pin for pin in plan.install}
    planned.update((pin.name, pin) for _, pin in (*plan.upgrade, *plan.reinstall))
    replaced = {old.canonical_name for old, _ in (*plan.upgrade, *plan.reinstall)}
    current: dict[NormalizedName, Version | None] = {}
    for dist in installed:
        current.setdefault(dist.canonical_name, dist.version)
    broken: list[Breakage] = []
    for dist in installed:
        if dist.canonical_name in replaced:
            continue
        for requirement in dist.requirements_for(target):
            name = canonicalize_name(requirement.name)
            pin = planned.get(name)
            before = current.get(name)
            if pin is None or before is None:
                continue
            spec = requirement.specifier
            if spec.contains(before, prereleases=True) and not spec.contains(
                pin.version, prereleases=True
            ):
                broken.append(Breakage(dist, requirement, before, pin))
    return sorted(broken, key=lambda b: (b.dist.canonical_name, b.after.name, b.wanted))
