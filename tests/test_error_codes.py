"""Every diagnosis code pipwise can raise is documented in docs/errors.md (codes are API)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: A code passed to DiagnosticError, assigned to a ``code`` variable, or given to a helper
#: that builds the error (``_invalid("invalid-wheel", ...)``).
_RAISED = re.compile(
    r'(?:DiagnosticError\(\s*(?:code=)?|\bcode = |_invalid\(\s*)"([a-z0-9]+(?:-[a-z0-9]+)+)"'
)
_DOCUMENTED = re.compile(r"^\| `([a-z0-9-]+)` \|", re.MULTILINE)


def raised_codes() -> set[str]:
    codes: set[str] = set()
    for path in (ROOT / "src" / "pipwise").rglob("*.py"):
        if path.name == "errors.py":  # its doctest example is not a real code
            continue
        codes |= set(_RAISED.findall(path.read_text(encoding="utf-8")))
    return codes


def test_every_raised_code_is_documented() -> None:
    documented = set(_DOCUMENTED.findall((ROOT / "docs" / "errors.md").read_text()))
    assert raised_codes(), "the pattern no longer finds any code"
    assert sorted(raised_codes() - documented) == []
