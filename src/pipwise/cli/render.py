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
        self,
        verbosity: int = 0,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
        stdin: TextIO | None = None,
    ) -> None:
        self.verbosity = verbosity
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        #: None when the process has no stdin at all (then every question is answered no).
        self.stdin: TextIO | None = stdin or sys.stdin
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
        """Ask on stderr and read one line of stdin, terminal or not (``echo n |`` means no).

        An empty line is yes, as the ``[Y/n]`` says; end of input (``</dev/null``, a closed
        pipe) is no, so a script that did not pass ``-y`` changes nothing.
        """
        print(f"{question} [Y/n] ", end="", file=self.stderr, flush=True)
        try:
            line = self.stdin.readline() if self.stdin is not None else ""
        except (OSError, ValueError):  # stdin closed or unreadable: nobody can say yes
            line = ""
        if not _isatty(self.stdin):
            print(line.strip(), file=self.stderr)  # no terminal echoed it: end the prompt line
        return bool(line) and line.strip().lower() in ("", "y", "yes")

    def error(self, error: DiagnosticError, as_json: bool = False) -> None:
        if as_json:
            print(json.dumps({"error": error.to_json()}, indent=2), file=self.stdout)
            return
        print(render_error(error, self._paint), file=self.stderr)
        derivation = error.details.get("derivation")
        if self.verbosity > 0 and isinstance(derivation, str):
            print("\nderivation:", file=self.stderr)
            print("\n".join(f"  {line}" for line in derivation.splitlines()), file=self.stderr)


def _isatty(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (OSError, ValueError):
        return False


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
