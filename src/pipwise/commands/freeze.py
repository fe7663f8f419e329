"""`pipwise freeze`: installed distributions in requirements format, as pip prints them."""

from __future__ import annotations

import argparse

from packaging.utils import canonicalize_name

from pipwise.commands._environment import editable_location, installed_in
from pipwise.errors import EXIT_OK
from pipwise.install.installed import InstalledDistribution
from pipwise.session import Session
from pipwise.ui import UI

_ALWAYS_HIDDEN = frozenset({"pip"})
#: pip hides the build backends too on interpreters older than 3.12 (they came bundled there).
_HIDDEN_BEFORE_312 = frozenset({"setuptools", "wheel", "distribute"})


def freeze_line(dist: InstalledDistribution) -> str:
    """``name==version``, ``name @ url`` for a URL or path install, ``-e url`` for editables."""
    if dist.direct_url is None:
        return f"{dist.name}=={dist.raw_version}"
    prefix = "-e " if editable_location(dist) else f"{dist.name} @ "
    return prefix + dist.direct_url.url


def run(session: Session, options: argparse.Namespace, ui: UI) -> int:
    """Print one requirement line per installed distribution."""
    target, dists = installed_in(session, options)
    hidden = set() if options.all else set(_ALWAYS_HIDDEN)
    if not options.all and target.version < (3, 12):
        hidden |= _HIDDEN_BEFORE_312
    for dist in dists:
        if canonicalize_name(dist.name) not in hidden:
            ui.result(freeze_line(dist))
    return EXIT_OK
