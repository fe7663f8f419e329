"""`pipwise show`: details of installed distributions in pip's format (or JSON)."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from packaging.utils import NormalizedName, canonicalize_name

from pipwise.commands._environment import installed_in
from pipwise.errors import EXIT_FAILURE, EXIT_OK
from pipwise.install.installed import InstalledDistribution
from pipwise.session import Session
from pipwise.ui import UI

#: What pip prints under ``Files:`` when a distribution has no file list.
NO_RECORD = "Cannot locate RECORD or installed-files.txt"


def _details(
    dist: InstalledDistribution, requires: list[str], required_by: list[str]
) -> dict[str, Any]:
    return {
        "name": dist.name,
        "version": dist.raw_version,
        "summary": dist.summary,
        "home-page": dist.home_page,
        "author": dist.author,
        "author-email": dist.author_email,
        "license": dist.license,
        "location": str(dist.location),
        "requires": requires,
        "required-by": required_by,
        "installer": dist.installer,
    }


def run(session: Session, options: argparse.Namespace, ui: UI) -> int:
    """Print each named distribution; exit 1 when one is not installed, as pip does."""
    target, dists = installed_in(session, options)
    by_name: dict[NormalizedName, InstalledDistribution] = {}
    for dist in dists:
        by_name.setdefault(dist.canonical_name, dist)  # the first found is the importable one
    found = [by_name[n] for n in map(canonicalize_name, options.names) if n in by_name]
    missing = [n for n in options.names if canonicalize_name(n) not in by_name]
    # Names each distribution requires here, without extras (as pip shows them), read once.
    requires: dict[NormalizedName, list[str]] = {}
    required_by: dict[NormalizedName, list[str]] = {}
    for dist in dists:
        names = {req.name: None for req in dist.requirements_for(target)}
        if by_name[dist.canonical_name] is dist:
            requires[dist.canonical_name] = sorted(names, key=str.lower)
        for name in {canonicalize_name(name) for name in names}:
            required_by.setdefault(name, []).append(dist.name)
    rows = []
    for dist in found:
        row = _details(
            dist,
            requires[dist.canonical_name],
            sorted(dict.fromkeys(required_by.get(dist.canonical_name, [])), key=str.lower),
        )
        if options.files:
            listed = dist.record_files()
            row["files"] = None if listed is None else [str(p) for p in listed]
        rows.append(row)
    if options.format == "json":
        ui.result(json.dumps(rows, indent=2))
    else:
        for index, info in enumerate(rows):
            if index:
                ui.result("---")
            ui.result(f"Name: {info['name']}")
            ui.result(f"Version: {info['version']}")
            for label, key in (
                ("Summary", "summary"),
                ("Home-page", "home-page"),
                ("Author", "author"),
                ("Author-email", "author-email"),
                ("License", "license"),
                ("Location", "location"),
            ):
                ui.result(f"{label}: {info[key] or ''}")
            ui.result(f"Requires: {', '.join(info['requires'])}")
            ui.result(f"Required-by: {', '.join(info['required-by'])}")
            if options.files:
                ui.result("Files:")
                if info["files"] is None:
                    ui.result(NO_RECORD)
                for path in info["files"] or ():
                    ui.result(f"  {os.path.relpath(path, info['location'])}")
    if missing:
        ui.warn(f"Package(s) not found: {', '.join(missing)}")
    return EXIT_FAILURE if missing else EXIT_OK
