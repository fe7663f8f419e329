"""Terminal rendering: the plain-text UI and the shape of a diagnosis on screen or as JSON."""

from __future__ import annotations

import json
import os
import sys
from typing import TextIO

from pipwise.errors import DiagnosticError

__all__ = ["TerminalUI", "render_error"]


class TerminalUI:
    """Plain lines: stdout for results, stderr for context; colour only on a terminal."""

    def __init__(
        self, verbosity: int = 0, stdout: TextIO | None = None, stderr: TextIO | None = None
    ) -> None:
        self.verbosity = verbosity
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.color = self.stderr.isatty() and "NO_COLOR" not in os.environ

    def _paint(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.color else text

    def result(self, text: str) -> None:
        print(text, file=self.stdout)

    def status(self, text: str) -> None:
        if self.verbosity >= 0:
            print(text, file=self.stderr)

    def warn(self, text: str) -> None:
        if self.verbosity >= -1:
            print(self._paint("warning", "1;33") + f": {text}", file=self.stderr)

    def confirm(self, question: str) -> bool:
        if not sys.stdin.isatty():
            return True
        answer = input(f"{question} [Y/n] ").strip().lower()
        return answer in ("", "y", "yes")

    def error(self, error: DiagnosticError, as_json: bool = False) -> None:
        if as_json:
            print(json.dumps({"error": error.to_json()}, indent=2), file=self.stdout)
            return
        print(render_error(error, self._paint), file=self.stderr)
        derivation = error.details.get("derivation")
        if self.verbosity > 0 and isinstance(derivation, str):
            print("\nderivation:", file=self.stderr)
            print("\n".join(f"  {line}" for line in derivation.splitlines()), file=self.stderr)


def _plain(text: str, code: str) -> str:
    return text


def render_error(error: DiagnosticError, paint: object = _plain) -> str:
    """The text form: the cause first, then evidence, then the fix at the bottom of the screen."""
    colour = paint if callable(paint) else _plain
    lines = [colour(f"error[{error.code}]", "1;31") + f": {error.cause}"]
    bar = colour("|", "2")
    lines += [f"  {bar} {line}" for item in error.evidence for line in item.splitlines()]
    if error.note:
        lines.append(f"  note: {error.note}")
    if error.fix:
        lines.append(colour("  fix: ", "1;32") + error.fix)
    return "\n".join(lines)
