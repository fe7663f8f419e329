"""`pipwise show`: details of installed distributions in pip's format (or JSON)."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Mapping
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from pipwise.commands._environment import installed_in
from pipwise.errors import EXIT_FAILURE, EXIT_OK
from pipwise.install.installed import InstalledDistribution
from pipwise.session import Session
from pipwise.ui import UI


def _requirement_names(dist: InstalledDistribution, markers: Mapping[str, str]) -> list[str]:
    """Names the distribution requires on this target, without extras (as pip shows them)."""
    environment = {**markers, "extra": ""}
    names: list[str] = []
    for text in dist.requires:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        if req.marker is None or req.marker.evaluate(environment):
            names.append(req.name)
    return sorted(dict.fromkeys(names), key=str.lower)


def _details(
    dist: InstalledDistribution, dists: list[InstalledDistribution], markers: Mapping[str, str]
) -> dict[str, Any]:
    required_by = sorted(
        (
            other.name
            for other in dists
            if dist.canonical_name
            in {canonicalize_name(n) for n in _requirement_names(other, markers)}
        ),
        key=str.lower,
    )
    return {
        "name": dist.name,
        "version": dist.raw_version,
        "summary": dist.summary,
        "home-page": dist.home_page,
        "author": dist.author,
        "author-email": dist.author_email,
        "license": dist.license,
        "location": str(dist.location),
        "requires": _requirement_names(dist, markers),
        "required-by": required_by,
        "installer": dist.installer,
    }


def run(session: Session, options: argparse.Namespace, ui: UI) -> int:
    """Print each named distribution; exit 1 when one is not installed, as pip does."""
    target, dists = installed_in(session, options)
    by_name = {canonicalize_name(d.name): d for d in dists}
    found = [by_name[n] for n in map(canonicalize_name, options.names) if n in by_name]
    missing = [n for n in options.names if canonicalize_name(n) not in by_name]
    if options.format == "json":
        rows = []
        for dist in found:
            row = _details(dist, dists, target.markers)
            if options.files:
                row["files"] = [str(p) for p in dist.files()]
            rows.append(row)
        ui.result(json.dumps(rows, indent=2))
    else:
        for index, dist in enumerate(found):
            if index:
                ui.result("---")
            info = _details(dist, dists, target.markers)
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
                for path in dist.files():
                    ui.result(f"  {_relative(path, dist.location)}")
    if missing:
        ui.warn(f"Package(s) not found: {', '.join(missing)}")
    return EXIT_FAILURE if missing else EXIT_OK


def _relative(path: object, location: object) -> str:
    return os.path.relpath(str(path), str(location))
