"""`pipwise list`: installed distributions as columns, freeze lines or pip-compatible JSON."""

from __future__ import annotations

import argparse
import json

from pipwise.commands._environment import editable_location, installed_in
from pipwise.errors import EXIT_OK
from pipwise.session import Session
from pipwise.ui import UI


def run(session: Session, options: argparse.Namespace, ui: UI) -> int:
    """Print what is installed in the target."""
    _, dists = installed_in(session, options)
    if options.format == "json":
        rows = []
        for dist in dists:
            row = {"name": dist.name, "version": dist.raw_version}
            if editable := editable_location(dist):
                row["editable_project_location"] = editable
            rows.append(row)
        ui.result(json.dumps(rows))
    elif options.format == "freeze":
        for dist in dists:
            ui.result(f"{dist.name}=={dist.raw_version}")
    elif dists:
        width = max(len("Package"), *(len(d.name) for d in dists))
        vwidth = max(len("Version"), *(len(d.raw_version) for d in dists))
        ui.result(f"{'Package':<{width}} {'Version':<{vwidth}}".rstrip())
        ui.result(f"{'-' * width} {'-' * vwidth}")
        for dist in dists:
            ui.result(f"{dist.name:<{width}} {dist.raw_version:<{vwidth}}".rstrip())
    return EXIT_OK
