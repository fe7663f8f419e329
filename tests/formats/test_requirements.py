"""Requirements parsing keeps sources for explanations and turns mistakes into diagnoses."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipwise.errors import DiagnosticError
from pipwise.formats.requirements import parse_file, parse_requirement


def test_single_equals_suggests_double_equals() -> None:
    with pytest.raises(DiagnosticError) as caught:
        parse_requirement("requests=2.31.0")
    error = caught.value
    assert error.code == "invalid-requirement"
    assert error.fix == "pipwise install 'requests==2.31.0'"
    assert error.exit_code == 2


def test_file_with_comments_continuations_nesting_and_options(tmp_path: Path) -> None:
    (tmp_path / "base.txt").write_text("idna>=3  # pinned below\n")
    (tmp_path / "requirements.txt").write_text(
        "# top comment\n"
        "-r base.txt\n"
        "--index-url https://example.invalid/simple\n"
        "--extra-index-url=file:///extra\n"
        "requests[socks] >= 2.31 \\\n"
        "    ; python_version >= '3.8'\n"
        "\n"
        "rich==13.7.1 # a comment\n"
        "pkg-from-env==${PKG_VERSION}\n"
        "--pre\n"
    )
    parsed = parse_file(tmp_path / "requirements.txt", environ={"PKG_VERSION": "1.0"})
    assert [str(r.requirement) for r in parsed.requirements] == [
        "idna>=3",
        'requests[socks]>=2.31; python_version >= "3.8"',
        "rich==13.7.1",
        "pkg-from-env==1.0",
    ]
    assert parsed.requirements[0].source == f"{tmp_path / 'base.txt'}:1"
    assert parsed.requirements[1].source == f"{tmp_path / 'requirements.txt'}:5"
    assert parsed.index_url == "https://example.invalid/simple"
    assert parsed.extra_index_urls == ["file:///extra"]
    assert parsed.pre is True


def test_constraints_are_marked(tmp_path: Path) -> None:
    (tmp_path / "c.txt").write_text("urllib3<2\n")
    (tmp_path / "r.txt").write_text("-c c.txt\nrequests\n")
    parsed = parse_file(tmp_path / "r.txt")
    assert [(str(r.requirement), r.constraint) for r in parsed.requirements] == [
        ("urllib3<2", True),
        ("requests", False),
    ]


def test_missing_file_lists_near_names(tmp_path: Path) -> None:
    (tmp_path / "requirements-dev.txt").write_text("pytest\n")
    with pytest.raises(DiagnosticError) as caught:
        parse_file(tmp_path / "requirement.txt")
    error = caught.value
    assert error.code == "requirements-file-not-found"
    assert any("requirements-dev.txt" in line for line in error.evidence)


def test_missing_nested_file_names_the_including_line(tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_text("-r nope.txt\n")
    with pytest.raises(DiagnosticError) as caught:
        parse_file(tmp_path / "r.txt")
    assert f"included from {tmp_path / 'r.txt'}:1" in caught.value.evidence


def test_self_inclusion_is_a_cycle(tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_text("-r r.txt\n")
    with pytest.raises(DiagnosticError) as caught:
        parse_file(tmp_path / "r.txt")
    assert caught.value.code == "requirements-file-cycle"


def test_unsupported_option_is_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_text("-e ./project\n")
    with pytest.raises(DiagnosticError) as caught:
        parse_file(tmp_path / "r.txt")
    assert caught.value.code == "unsupported-requirements-option"
    assert "'-e'" in caught.value.cause


def test_bad_line_cites_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_text("ok\nrequests=2.31.0\n")
    with pytest.raises(DiagnosticError) as caught:
        parse_file(tmp_path / "r.txt")
    assert caught.value.evidence[0] == f"from {tmp_path / 'r.txt'}:2"
