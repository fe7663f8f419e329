"""Helpers shared by the commands that read an environment's installed distributions."""

from __future__ import annotations

import argparse
import os
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
        if not url.startswith("file:"):
            return url
        from pipwise.net.http import url_to_path  # ~7 ms that `pipwise list` rarely needs

        return str(url_to_path(url))
    return None


def require_writable(target: Target, *, cwd: Path, uninstall: bool = False) -> None:
    """Refuse (``site-not-writable``) to change a target whose site-packages this user
    cannot write to, before anything is downloaded or removed.

    For an install the fix creates a virtual environment here from the same interpreter,
    offered only when ``cwd`` can hold a new ``.venv``. pipwise never suggests running as
    another user.
    """
    if target.site_writable:
        return
    site = Path(target.scheme.purelib)
    user = _user_name(os.geteuid() if hasattr(os, "geteuid") else None)
    evidence = [f"{site} is not writable by user {user}"]
    owner = _owner(site)
    if owner is not None:
        evidence.append(f"{owner[0]} is owned by {owner[1]}")
    venv = cwd / ".venv"
    fix = None
    if uninstall:
        note = (
            "These packages belong to the owner of that directory or to the tool that "
            "manages this Python, such as the system's package manager. For packages of "
            "your own, use a virtual environment (pipwise venv)."
        )
    elif (venv / "pyvenv.cfg").is_file():
        note = (
            f"Install into a virtual environment you own instead: {venv} exists, so run the "
            f"command again with --python {shlex.quote(str(venv))}."
        )
    elif not venv.exists() and os.access(cwd, os.W_OK):
        fix = f"pipwise venv {shlex.quote(str(venv))} --python {shlex.quote(target.executable)}"
        note = (
            "Install into a virtual environment you own instead: the fix creates one here "
            f"from the same Python; then run the command again with --python "
            f"{shlex.quote(str(venv))}."
        )
    else:
        note = (
            "Install into a virtual environment you own instead: create one where you can "
            "write (pipwise venv PATH), then run the command again with --python PATH."
        )
    verb = "remove packages from" if uninstall else "install packages into"
    raise DiagnosticError(
        "site-not-writable",
        "environment",
        f"User {user} cannot {verb} {target.executable}: {site} is not writable; "
        "nothing was changed",
        evidence=tuple(evidence),
        fix=fix,
        note=note,
    )


def _user_name(uid: int | None) -> str:
    if uid is not None:
        try:
            import pwd

            return pwd.getpwuid(uid).pw_name
        except (ImportError, KeyError):
            return f"uid {uid}"
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "(unknown)"


def _owner(path: Path) -> tuple[Path, str] | None:
    """The nearest existing directory at or above ``path`` and its owner's name."""
    while not path.exists() and path.parent != path:
        path = path.parent
    try:
        uid = path.stat().st_uid
    except OSError:
        return None
    return (path, _user_name(uid)) if os.name != "nt" else None


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
