"""`pipwise venv`: create a virtual environment, without pip unless asked."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from pipwise.env.interpreters import find_interpreter, inspect_interpreter
from pipwise.env.venv import create_venv
from pipwise.errors import EXIT_OK
from pipwise.session import Session
from pipwise.ui import UI


def run(session: Session, options: argparse.Namespace, ui: UI) -> int:
    """Create the environment and say how to use it."""
    base = find_interpreter(options.python, environ=session.environ) if options.python else None
    interpreter = inspect_interpreter(base or sys.executable, cache_dir=session.cache_dir)
    path = Path(options.path)
    if not path.is_absolute():
        path = session.cwd / path
    ui.status(
        f"Creating virtual environment at {options.path} with Python "
        f"{interpreter.version_string} ({interpreter.executable})"
        + (" and pip" if options.seed else "")
    )
    python = create_venv(
        path,
        interpreter,
        seed=options.seed,
        system_site_packages=options.system_site_packages,
        prompt=options.prompt,
        clear=options.clear,
    )
    ui.status(f"Created {python}")
    ui.status(f"Activate with: source {shlex.quote(options.path)}/bin/activate")
    return EXIT_OK
