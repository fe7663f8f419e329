"""In-memory installed distributions for tests of code that only reads their fields."""

from __future__ import annotations

from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import Version

from pipwise.dists import DirectUrl
from pipwise.install.installed import InstalledDistribution

SITE = Path("/env/lib/python3.11/site-packages")


def installed_dist(
    name: str,
    version: str,
    *,
    direct_url: DirectUrl | None = None,
    requested: bool = False,
    site: Path = SITE,
) -> InstalledDistribution:
    """A distribution as `installed_distributions` would describe it (nothing on disk)."""
    return InstalledDistribution(
        name=name,
        canonical_name=canonicalize_name(name),
        version=Version(version),
        raw_version=version,
        location=site,
        dist_info=site / f"{name}-{version}.dist-info",
        requested=requested,
        installer="pipwise",
        direct_url=direct_url,
        requires=(),
        summary="",
        home_page="",
        author="",
        author_email="",
        license="",
    )
