"""Requirements parsing keeps sources for explanations and turns mistakes into diagnoses."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from pipwise.errors import DiagnosticError
from pipwise.formats.requirements import parse_file, parse_requirement


def test_single_equals_suggests_double_equals() -> None:
    with pytest.raises(DiagnosticError) as caught:
        parse_requirement("requests=2.31.0")
    error = caught.value
    assert error.code == "invalid-requirement"
    assert error.fix == "pipwise install requests==2.31.0"
    assert error.details["corrected"] == "requests==2.31.0"
    assert error.exit_code == 2


@pytest.mark.parametrize(
    "text",
    [
        "requests=2.31.0; python_version >= '3.8'",
        'requests[socks] = 2.31.0 ; sys_platform != "win32"',
    ],
)
def test_the_fix_for_a_typo_survives_the_shell(text: str) -> None:
    with pytest.raises(DiagnosticError) as caught:
        parse_requirement(text)
    corrected = caught.value.details["corrected"]
    assert "==2.31.0" in corrected
    assert caught.value.fix is not None
    assert shlex.split(caught.value.fix) == ["pipwise", "install", corrected]


def test_a_typo_in_a_file_says_what_the_line_should_read(tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_text("ok\nrequests=2.31.0\n")
    with pytest.raises(DiagnosticError) as caught:
        parse_file(tmp_path / "r.txt")
    error = caught.value
    assert error.fix is None  # `pipwise install` would not change the file
    assert error.details["corrected"] == "requests==2.31.0"
    assert error.note is not None
    assert error.note.startswith(f"line 2 of {tmp_path / 'r.txt'} should read: requests==2.31.0")


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
    (tmp_path / "my dir").mkdir()
    (tmp_path / "my dir" / "requirements-dev.txt").write_text("pytest\n")
    with pytest.raises(DiagnosticError) as caught:
        parse_file(tmp_path / "my dir" / "requirement.txt")
    error = caught.value
    assert error.code == "requirements-file-not-found"
    assert any("requirements-dev.txt" in line for line in error.evidence)
    near = tmp_path / "my dir" / "requirements-dev.txt"
    assert error.fix == f"pipwise install -r {shlex.quote(str(near))}"


def test_the_near_name_fix_keeps_a_relative_path_relative(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "requirements.txt").write_text("pytest\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DiagnosticError) as caught:
        parse_file(Path("sub/requirement.txt"))
    assert caught.value.fix == "pipwise install -r sub/requirements.txt"


def test_missing_nested_file_names_the_including_line(tmp_path: Path) -> None:
    (tmp_path / "requirements-base.txt").write_text("idna\n")
    (tmp_path / "r.txt").write_text("-r requirements-bsae.txt\n")
    with pytest.raises(DiagnosticError) as caught:
        parse_file(tmp_path / "r.txt")
    error = caught.value
    assert f"included from {tmp_path / 'r.txt'}:1" in error.evidence
    assert error.fix is None  # the -r line in r.txt is what needs correcting
    assert error.note is not None
    assert f"{tmp_path / 'r.txt'}:1" in error.note


def test_self_inclusion_is_a_cycle(tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_text("-r r.txt\n")
    with pytest.raises(DiagnosticError) as caught:
        parse_file(tmp_path / "r.txt")
    assert caught.value.code == "requirements-file-cycle"


@pytest.mark.parametrize(
    ("line", "url"),
    [
        ("--index-url https://x.example/simple?a=b", "https://x.example/simple?a=b"),
        ("--index-url=https://x.example/simple?a=b", "https://x.example/simple?a=b"),
        ("--index-url = https://x.example/simple", "https://x.example/simple"),
        ("--index-url\thttps://x.example/simple", "https://x.example/simple"),
        ("-i https://x.example/simple?token=a==", "https://x.example/simple?token=a=="),
        ("-ihttps://x.example/simple", "https://x.example/simple"),
    ],
)
def test_option_values_are_read_whole(tmp_path: Path, line: str, url: str) -> None:
    (tmp_path / "r.txt").write_text(f"{line}\n")
    assert parse_file(tmp_path / "r.txt").index_url == url


def test_find_links_tab_separated_and_relative_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "wheels").mkdir()
    (tmp_path / "r.txt").write_text("-f\twheels\n--find-links = https://x.example/links\n")
    assert parse_file(tmp_path / "r.txt").find_links == [
        str(tmp_path / "wheels"),
        "https://x.example/links",
    ]


def test_hashes_from_pip_compile_are_refused_by_name(tmp_path: Path) -> None:
    digest = "58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f"
    (tmp_path / "r.txt").write_text(f"requests==2.31.0 \\\n    --hash=sha256:{digest}\n")
    with pytest.raises(DiagnosticError) as caught:
        parse_file(tmp_path / "r.txt")
    error = caught.value
    assert error.code == "unsupported-requirements-option"
    assert "'--hash'" in error.cause
    assert error.details["option"] == "--hash"
    assert error.evidence[0].startswith(f"{tmp_path / 'r.txt'}:1: requests==2.31.0")


def test_an_option_without_its_value_is_named(tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_text("--index-url=\n")
    with pytest.raises(DiagnosticError) as caught:
        parse_file(tmp_path / "r.txt")
    assert caught.value.cause == f"option --index-url in {tmp_path / 'r.txt'}:1 needs a value"


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
