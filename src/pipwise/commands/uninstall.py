"""`pipwise uninstall`: remove exactly what each distribution's RECORD lists."""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path

from packaging.utils import canonicalize_name

from pipwise.commands._environment import refuse_externally_managed, require_writable
from pipwise.errors import EXIT_OK, DiagnosticError
from pipwise.formats.requirements import parse_file, parse_requirement
from pipwise.install.installed import installed_distributions
from pipwise.install.uninstall import refuse_unremovable, uninstall
from pipwise.session import Session
from pipwise.ui import UI


def _command(options: argparse.Namespace, replace: dict[str, str]) -> str:
    """This uninstall command as given, with some names replaced."""
    words = ["pipwise", "uninstall"]
    if options.python:
        words += ["--python", options.python]
    if options.yes:
        words.append("-y")
    for file in options.requirement_files:
        words += ["-r", file]
    words += [replace.get(name, name) for name in options.names]
    return " ".join(shlex.quote(word) for word in words)


def run(session: Session, options: argparse.Namespace, ui: UI) -> int:
    """Uninstall the named distributions from the target."""
    names = []
    for text in options.names:
        try:
            names.append(parse_requirement(text).requirement.name)
        except DiagnosticError as error:
            corrected = error.details.get("corrected")
            error.fix = _command(options, {text: corrected}) if isinstance(corrected, str) else None
            raise
    for file in options.requirement_files:
        try:
            names += [r.requirement.name for r in parse_file(Path(file)).requirements]
        except DiagnosticError as error:
            error.fix = None  # the parser's fixes are install commands
            raise
    if not names:
        raise DiagnosticError(
            "nothing-to-uninstall",
            "usage",
            "no package names were given",
            note="Name the packages to remove, or give a requirements file with -r FILE.",
        )
    target = session.target(options.python, system=options.system)
    ui.status(f"Using {target.describe()}")
    refuse_externally_managed(
        target, allowed=options.break_system_packages, cwd=session.cwd, install_args=None
    )
    # Only the install scheme is ours to change; a distro's dist-packages is not.
    dists = installed_distributions([target.scheme.purelib, target.scheme.platlib])
    by_name = {canonicalize_name(d.name): d for d in dists}
    chosen = []
    for name in dict.fromkeys(names):
        dist = by_name.get(canonicalize_name(name))
        if dist is None:
            ui.warn(f"skipping {name}: it is not installed in {target.prefix}")
        else:
            chosen.append(dist)
    if chosen:
        # Refuse before asking: a "yes" should not be met by a refusal that was known.
        require_writable(target, cwd=session.cwd, uninstall=True)
        for dist in chosen:
            refuse_unremovable(dist)
    if chosen and not options.yes:
        listing = ", ".join(f"{d.name}=={d.raw_version}" for d in chosen)
        if not ui.confirm(f"Uninstall {listing}?"):
            ui.status("Nothing was removed (-y removes without asking).")
            return EXIT_OK
    removed = []
    for dist in chosen:
        uninstall(dist, prefix=target.prefix, scheme=target.scheme)
        removed.append({"name": dist.name, "version": dist.raw_version})
        ui.status(f" - {dist.name}=={dist.raw_version}")
    if options.format == "json":
        ui.result(json.dumps({"removed": removed}))
    elif removed:
        ui.status(f"Uninstalled {len(removed)} package{'s' if len(removed) != 1 else ''}")
    return EXIT_OK
