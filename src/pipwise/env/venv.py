"""Creating virtual environments with the stdlib `venv` of a base interpreter."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

from pipwise.env.interpreters import inspect_interpreter, venv_python
from pipwise.errors import DiagnosticError
from pipwise.target import Target

__all__ = ["create_venv", "recreate_command"]

VENV_TIMEOUT = 300.0


def create_venv(
    path: Path,
    interpreter: Target | str,
    *,
    seed: bool = False,
    system_site_packages: bool = False,
    prompt: str | None = None,
    clear: bool = False,
) -> Path:
    """Create a virtual environment at ``path`` and return its interpreter.

    The environment is made by the base interpreter of ``interpreter`` (so a venv is
    never built on top of another venv). pip is installed only with ``seed``. ``clear``
    replaces an existing virtual environment; a directory that is not one (no
    ``pyvenv.cfg``) is never emptied, ``clear`` or not.
    """
    target = inspect_interpreter(interpreter) if isinstance(interpreter, str) else interpreter
    path = path.absolute()
    existed = path.exists()
    _refuse_existing(path, clear=clear)
    command = [str(_base_interpreter(target)), "-I", "-m", "venv"]
    if not seed:
        command.append("--without-pip")
    if system_site_packages:
        command.append("--system-site-packages")
    if prompt is not None:
        command += ["--prompt", prompt]
    if clear:
        command.append("--clear")
    command.append(str(path))
    try:
        run = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            # Debian's venv prints its missing-ensurepip advice on stdout.
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            timeout=VENV_TIMEOUT,
            check=False,
        )
        output, status = run.stdout, f"exit status {run.returncode}"
        failed = run.returncode != 0
    except (OSError, subprocess.TimeoutExpired) as exc:
        output, status, failed = "", str(exc), True
    if failed:
        if not existed:
            # A half-made venv would be picked up later as `.venv`; leave nothing behind.
            shutil.rmtree(path, ignore_errors=True)
        raise _creation_failed(path, command, status, output)
    return venv_python(path)


def recreate_command(venv: Path) -> str | None:
    """The ``pipwise venv`` command that (re)creates an environment at ``venv``, when safe.

    ``--clear`` is offered only for a directory holding a ``pyvenv.cfg``: anything else
    would be emptied by it. A missing or empty directory needs no ``--clear``; for a
    non-empty directory that is not an environment there is no such command (None).
    """
    quoted = shlex.quote(str(venv))
    if (venv / "pyvenv.cfg").is_file():
        return f"pipwise venv --clear {quoted}"
    try:
        if not venv.exists() or (venv.is_dir() and not any(venv.iterdir())):
            return f"pipwise venv {quoted}"
    except OSError:
        pass
    return None


def _refuse_existing(path: Path, *, clear: bool) -> None:
    if (path / "pyvenv.cfg").is_file():
        if clear:
            return
        raise DiagnosticError(
            "venv-exists",
            "environment",
            f"A virtual environment already exists at {path}",
            evidence=(f"{path / 'pyvenv.cfg'} exists",),
            fix=recreate_command(path),
            note="--clear deletes the existing environment and everything installed in it.",
        )
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        what = "a non-empty directory" if path.is_dir() else "a file"
        inside = path / ".venv"
        raise DiagnosticError(
            "venv-path-exists",
            "environment",
            f"{path} is {what} and not a virtual environment; nothing was changed",
            evidence=(f"{path} exists and has no pyvenv.cfg",),
            fix=recreate_command(inside) if path.is_dir() else None,
            note="Choose another path. --clear only replaces a virtual environment (a "
            "directory with a pyvenv.cfg); it never empties another directory.",
        )


def _base_interpreter(target: Target) -> Path:
    if not target.is_venv:
        return Path(target.executable)
    home = _pyvenv_home(Path(target.prefix) / "pyvenv.cfg")
    names = (
        ["python.exe"]
        if os.name == "nt"
        else [f"python{target.python_version}", "python3", "python"]
    )
    bin_dir = "" if os.name == "nt" else "bin"
    dirs = ([home] if home else []) + [Path(target.base_prefix) / bin_dir]
    for directory in dirs:
        for name in names:
            if (directory / name).is_file():
                return directory / name
    raise DiagnosticError(
        "broken-venv",
        "environment",
        f"The base interpreter of the virtual environment {target.prefix} is missing",
        evidence=tuple(f"no {' or '.join(names)} in {directory}" for directory in dirs),
        fix=recreate_command(Path(target.prefix)),
    )


def _pyvenv_home(cfg: Path) -> Path | None:
    try:
        text = cfg.read_text(encoding="utf-8")
    except OSError:
        return None
    match = re.search(r"^\s*home\s*=\s*(.+?)\s*$", text, re.MULTILINE)
    return Path(match.group(1)) if match else None


def _creation_failed(path: Path, command: list[str], status: str, output: str) -> DiagnosticError:
    evidence = [f"{' '.join(command)}: {status}"]
    if output.strip():
        # Same as pipwise.env.interpreters._tail(output, 15), which is private there.
        evidence.append("\n".join(output.strip().splitlines()[-15:]))
    debian = re.search(r"apt install (python3(?:\.\d+)?-venv)", output)
    return DiagnosticError(
        "venv-creation-failed",
        "environment",
        f"Creating the virtual environment at {path} failed",
        evidence=tuple(evidence),
        fix=f"apt install {debian.group(1)}" if debian else None,
        note="Debian and Ubuntu ship ensurepip separately from Python." if debian else None,
    )
