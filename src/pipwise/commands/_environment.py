"""Helpers shared by the commands that read an environment's installed distributions."""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Sequence
from pathlib import Path

from pipwise.errors import DiagnosticError
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


def refuse_externally_managed(
    target: Target, *, allowed: bool, cwd: Path, install_args: Sequence[str] | None
) -> None:
    """PEP 668: never change a distro-managed interpreter unless told to.

    For an install, the fix repeats the request (``install_args``) in a virtual environment
    here (reusing ``.venv`` when it exists); for an uninstall there is no such fix.
    """
    if target.externally_managed is None or allowed:
        return
    verb = "uninstall" if install_args is None else "install"
    fix = None
    if install_args is not None:
        venv = cwd / ".venv"
        install = (
            f"pipwise install --python {shlex.quote(str(venv))} "
            + " ".join(map(shlex.quote, install_args))
        ).rstrip()
        fix = (
            install
            if (venv / "pyvenv.cfg").is_file()
            else f"pipwise venv {shlex.quote(str(venv))} --python "
            f"{shlex.quote(target.executable)} && {install}"
        )
    raise DiagnosticError(
        "externally-managed-environment",
        "environment",
        f"{target.executable} is managed by the operating system (PEP 668); pipwise will not "
        f"{verb} packages {'into' if verb == 'install' else 'from'} it",
        evidence=tuple(
            line for line in target.externally_managed.strip().splitlines() if line.strip()
        ),
        fix=fix,
        note=(
            "to change the system interpreter anyway (risking the OS's own tools), "
            "add --break-system-packages"
            if fix
            else "remove it with the system's package manager, or add "
            "--break-system-packages to remove it anyway (risking the OS's own tools)"
        ),
    )
