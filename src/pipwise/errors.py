"""The diagnosis vocabulary: every failure pipwise reports is a `DiagnosticError`.

A diagnosis says what happened (``cause``), shows why we believe it (``evidence``)
and gives the one command that fixes it (``fix``). Its ``code`` is stable and
documented in ``docs/errors.md``; scripts may match on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["EXIT_FAILURE", "EXIT_OK", "EXIT_USAGE", "DiagnosticError", "Kind"]

EXIT_OK = 0
#: Resolution, build and integrity failures: the request cannot be satisfied as asked.
EXIT_FAILURE = 1
#: Environment, network and usage errors: the request could not be attempted.
EXIT_USAGE = 2

Kind = Literal["resolution", "build", "integrity", "environment", "network", "usage"]

_FAILURE_KINDS = frozenset({"resolution", "build", "integrity"})


@dataclass(eq=False)
class DiagnosticError(Exception):
    """A failure explained: cause, evidence and a fix the user can paste.

    >>> err = DiagnosticError("no-such-file", "usage", "requirements.txt does not exist")
    >>> err.exit_code
    2
    """

    code: str
    kind: Kind
    cause: str
    evidence: tuple[str, ...] = ()
    fix: str | None = None
    note: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.cause)

    @property
    def exit_code(self) -> int:
        return EXIT_FAILURE if self.kind in _FAILURE_KINDS else EXIT_USAGE

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "code": self.code,
            "kind": self.kind,
            "cause": self.cause,
            "evidence": list(self.evidence),
            "fix": self.fix,
        }
        if self.note:
            data["note"] = self.note
        if self.details:
            data["details"] = self.details
        return data

    def __str__(self) -> str:
        return f"{self.code}: {self.cause}"
