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


def test_confirm_reads_the_answer_even_when_stdin_is_not_a_terminal() -> None:
    answers = {"n\n": False, "no\n": False, "whatever\n": False, "y\n": True, "YES\n": True}
    answers |= {"\n": True, "": False}  # an empty line takes the default; end of input is no
    for given, expected in answers.items():
        out, err = io.StringIO(), io.StringIO()
        ui = TerminalUI(stdout=out, stderr=err, stdin=io.StringIO(given))
        assert ui.confirm("Uninstall app==1.0?") is expected, repr(given)
        assert out.getvalue() == "", "the question never mixes with results on stdout"
        assert err.getvalue() == f"Uninstall app==1.0? [Y/n] {given.strip()}\n"


def test_confirm_without_any_stdin_is_no() -> None:
    ui = TerminalUI(stdout=io.StringIO(), stderr=io.StringIO())
    ui.stdin = None
    assert ui.confirm("Uninstall app==1.0?") is False
    closed = io.StringIO("y\n")
    closed.close()
    assert TerminalUI(stderr=io.StringIO(), stdin=closed).confirm("Proceed?") is False
