"""A diagnosis on screen: cause first, every evidence line marked, the fix last."""

from __future__ import annotations

import io
import json

from pipwise.cli.render import TerminalUI, render_error
from pipwise.errors import DiagnosticError


def test_text_form_marks_every_evidence_line_and_ends_with_the_fix() -> None:
    error = DiagnosticError(
        "invalid-requirement",
        "usage",
        "'a=1' is not a valid requirement",
        evidence=("from the command line", "Expected end\n    a=1\n     ^"),
        fix="pipwise install 'a==1'",
        note="'==' pins an exact version",
    )
    assert render_error(error).splitlines() == [
        "error[invalid-requirement]: 'a=1' is not a valid requirement",
        "  | from the command line",
        "  | Expected end",
        "  |     a=1",
        "  |      ^",
        "  note: '==' pins an exact version",
        "  fix: pipwise install 'a==1'",
    ]


def test_json_form_goes_to_stdout() -> None:
    out, err = io.StringIO(), io.StringIO()
    ui = TerminalUI(stdout=out, stderr=err)
    ui.error(DiagnosticError("x-y", "network", "down", evidence=("e",)), as_json=True)
    assert json.loads(out.getvalue()) == {
        "error": {"code": "x-y", "kind": "network", "cause": "down", "evidence": ["e"], "fix": None}
    }
    assert err.getvalue() == ""
