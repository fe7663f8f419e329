"""Helpers shared by the commands that read an environment's installed distributions."""

from __future__ import annotations

import argparse

from pipwise.install.installed import InstalledDistribution, installed_distributions
from pipwise.session import Session
from pipwise.target import Target


def installed_in(
    session: Session, options: argparse.Namespace
) -> tuple[Target, list[InstalledDistribution]]:
    """The target named by the options and every distribution importable from it."""
    target = session.target(options.python, system=options.system)
    return target, installed_distributions(target.site_dirs)


def editable_location(dist: InstalledDistribution) -> str | None:
    """The project directory of an editable install (PEP 610 ``dir_info.editable``), else None."""
    if dist.direct_url is None:
        return None
    dir_info = dist.direct_url.info.get("dir_info")
    if isinstance(dir_info, dict) and dir_info.get("editable"):
        url = dist.direct_url.url
        return url.removeprefix("file://") if url.startswith("file://") else url
    return None
