"""Choosing the target environment: --python, then the active venv, then .venv, then --system."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Mapping
from pathlib import Path

from pipwise.env.interpreters import find_interpreter, inspect_interpreter, venv_python
from pipwise.env.venv import recreate_command
from pipwise.errors import DiagnosticError
from pipwise.target import Target

__all__ = ["select_target"]


def select_target(
    python: str | None,
    *,
    system: bool,
    cwd: Path,
    environ: Mapping[str, str],
    cache_dir: Path | None = None,
) -> Target:
    """The environment a command acts on; never the system Python unless ``system`` says so.

    In order: the ``--python`` request, the venv named by ``VIRTUAL_ENV``, a ``.venv``
    directory in ``cwd`` or a parent, and with ``system`` the first ``python3`` on PATH.
    """
    if python is not None:
        return inspect_interpreter(find_interpreter(python, environ=environ), cache_dir=cache_dir)
    if active := environ.get("VIRTUAL_ENV"):
        return _inspect_venv(Path(active), f"VIRTUAL_ENV={active}", cache_dir)
    for venv in (directory / ".venv" for directory in (cwd, *cwd.parents)):
        if venv.is_dir():
            return _inspect_venv(venv, f"found {venv} from {cwd}", cache_dir)
    if system:
        found = shutil.which("python3", path=environ.get("PATH", ""))
        if found is None:
            raise DiagnosticError(
                "interpreter-not-found",
                "environment",
                "--system was given but there is no python3 on PATH",
                evidence=(f"PATH={environ.get('PATH', '')}",),
                fix=None,
                note="Name an interpreter with --python PATH or --python X.Y.",
            )
        return inspect_interpreter(found, cache_dir=cache_dir)
    raise DiagnosticError(
        "no-environment",
        "environment",
        "No Python environment was found to act on",
        evidence=(
            "--python was not given",
            "VIRTUAL_ENV is not set",
            f"no .venv directory in {cwd} or its parents",
        ),
        fix="pipwise venv",
        note="Then re-run the command. To use the system interpreter instead, pass --system.",
    )


def _inspect_venv(venv: Path, found: str, cache_dir: Path | None) -> Target:
    """The venv's interpreter as a `Target`; a diagnosis says how the venv was chosen."""
    python = venv_python(venv)
    deactivate = (
        "If that environment is no longer wanted, run `deactivate` instead."
        if found.startswith("VIRTUAL_ENV=")
        else None
    )
    # A dangling link (base Python removed) is diagnosed by inspect_interpreter itself.
    if not python.exists() and not python.is_symlink():
        raise DiagnosticError(
            "broken-venv",
            "environment",
            f"The virtual environment {venv} has no working interpreter",
            evidence=(found, f"{python} does not exist"),
            fix=recreate_command(venv),
            note=deactivate,
        )
    try:
        return inspect_interpreter(python, cache_dir=cache_dir)
    except DiagnosticError as error:
        note = " ".join(text for text in (error.note, deactivate) if text) or None
        raise dataclasses.replace(error, evidence=(found, *error.evidence), note=note) from error
