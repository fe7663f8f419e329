"""The output seam between commands and the terminal: commands report, the CLI renders."""

from __future__ import annotations

from typing import Protocol

__all__ = ["UI"]


class UI(Protocol):
    """What a command may say. Results go to stdout; progress and notes go to stderr."""

    verbosity: int

    def result(self, text: str) -> None:
        """A line of the command's output proper (what a script would parse)."""

    def status(self, text: str) -> None:
        """A progress or context line (the target line, 'Resolved 5 packages')."""

    def warn(self, text: str) -> None:
        """Something the user should know that does not stop the command."""

    def confirm(self, question: str) -> bool:
        """Ask yes/no and read the answer from stdin, terminal or not; end of input is no."""
