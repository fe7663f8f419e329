"""Carrying out an install plan: new versions in, old versions stashed until they are.

Kept apart from planning (`install.plan`, pure) so that resolving and ``--dry-run`` never
load the wheel-installing machinery."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from packaging.utils import NormalizedName

from pipwise.dists import Pin
from pipwise.install.installed import InstalledDistribution
from pipwise.install.plan import InstallPlan
from pipwise.install.uninstall import refuse_unremovable, stash_distribution
from pipwise.install.wheel import install_wheel
from pipwise.target import Scheme

__all__ = ["execute_plan"]


def execute_plan(
    plan: InstallPlan,
    wheels: Mapping[NormalizedName, Path],
    scheme: Scheme,
    prefix: str,
    interpreter: str,
) -> None:
    """Install, upgrade and reinstall per ``plan``, one package at a time.

    Replacing a package stashes the old version's files and drops them only once the new
    version is in; when its install fails they are put back. Packages done before a
    failure stay done. A plan that replaces a legacy ``.egg-info`` install is refused
    before anything changes (`refuse_unremovable`).
    """
    changes: list[tuple[InstalledDistribution | None, Pin]] = [
        (None, pin) for pin in plan.install
    ] + [*plan.upgrade, *plan.reinstall]
    missing = sorted(pin.name for _, pin in changes if pin.name not in wheels)
    if missing:
        raise ValueError(f"no wheel given for {', '.join(missing)}")
    for old, _ in changes:
        if old is not None:
            refuse_unremovable(old)  # before the first change, not after some are done
    for old, pin in changes:
        stash = None if old is None else stash_distribution(old, prefix=prefix, scheme=scheme)
        try:
            install_wheel(
                wheels[pin.name],
                scheme,
                interpreter=interpreter,
                # Keep the mark of a user's request across upgrades by a dependency.
                requested=pin.requested or (old is not None and old.requested),
                direct_url=pin.direct_url,
            )
        except BaseException:
            if stash is not None:
                stash.rollback()
            raise
        if stash is not None:
            stash.commit()
