"""Choosing the target: --python, VIRTUAL_ENV, .venv in a parent, --system, or a diagnosis."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipwise.env.select import select_target
from pipwise.errors import DiagnosticError
from tests.env import PYENV_ROOT, make_venv, require_python


@pytest.fixture(scope="module")
def venvs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two real venvs: the one a test names and a decoy it must not pick."""
    root = tmp_path_factory.mktemp("venvs")
    python = require_python("3.12")
    return make_venv(root / "one", python).parent.parent, make_venv(
        root / "two", python
    ).parent.parent


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project with a real ``.venv`` and a nested working directory."""
    make_venv(tmp_path / ".venv", require_python("3.12"))
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    return tmp_path


def select(cwd: Path, python: str | None = None, *, system: bool = False, **environ: str) -> str:
    environ.setdefault("PATH", os.environ.get("PATH", ""))
    target = select_target(
        python, system=system, cwd=cwd, environ=environ, cache_dir=cwd / ".cache"
    )
    return target.prefix


def test_python_argument_comes_first(project: Path, venvs: tuple[Path, Path]) -> None:
    one, two = venvs
    assert select(project, str(one), VIRTUAL_ENV=str(two)) == str(one)


def test_virtual_env_comes_before_dot_venv(project: Path, venvs: tuple[Path, Path]) -> None:
    _, two = venvs
    assert select(project / "src" / "pkg", VIRTUAL_ENV=str(two)) == str(two)


def test_dot_venv_in_a_parent_directory(project: Path) -> None:
    assert select(project / "src" / "pkg") == str(project / ".venv")


def test_python_version_request(project: Path) -> None:
    prefix = select(project, "3.12", PYENV_ROOT=str(PYENV_ROOT))
    assert prefix != str(project / ".venv")
    assert prefix.endswith(require_python("3.12").parent.parent.name)


def test_a_virtual_env_without_interpreter(tmp_path: Path) -> None:
    gone = tmp_path / "gone-venv"
    with pytest.raises(DiagnosticError) as caught:
        select(tmp_path, VIRTUAL_ENV=str(gone))
    err = caught.value
    assert (err.code, err.kind) == ("broken-venv", "environment")
    assert err.evidence == (f"VIRTUAL_ENV={gone}", f"{gone}/bin/python does not exist")
    assert err.fix == f"pipwise venv {gone}", "nothing there: no --clear needed"
    assert err.note and "deactivate" in err.note


def test_clear_is_never_offered_for_a_directory_that_is_not_a_venv(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(DiagnosticError) as caught:
        select(tmp_path, VIRTUAL_ENV=str(project))
    assert caught.value.code == "broken-venv"
    assert caught.value.fix is None


def test_a_venv_whose_base_python_is_gone(tmp_path: Path) -> None:
    base = tmp_path / "base" / "python3"
    base.parent.mkdir()
    base.symlink_to(require_python("3.12"))
    venv = make_venv(tmp_path / "venv", base).parent.parent
    base.unlink()  # bin/python -> .../base/python3, now dangling
    with pytest.raises(DiagnosticError) as caught:
        select(tmp_path, VIRTUAL_ENV=str(venv))
    err = caught.value
    # inspect_interpreter's own diagnosis, with how the venv was chosen in front.
    assert (err.code, err.kind) == ("broken-interpreter", "environment")
    assert err.evidence[0] == f"VIRTUAL_ENV={venv}"
    assert err.fix == f"pipwise venv --clear {venv}"
    assert err.note and "deactivate" in err.note


def test_no_environment_is_a_diagnosis_not_the_system_python(tmp_path: Path) -> None:
    cwd = tmp_path / "work"
    cwd.mkdir()
    with pytest.raises(DiagnosticError) as caught:
        select(cwd)  # PATH has python3, yet without --system it is not used.
    err = caught.value
    assert (err.code, err.kind) == ("no-environment", "environment")
    assert err.cause == "No Python environment was found to act on"
    assert err.evidence == (
        "--python was not given",
        "VIRTUAL_ENV is not set",
        f"no .venv directory in {cwd} or its parents",
    )
    assert err.fix == "pipwise venv"
    assert err.note and "--system" in err.note


def test_system_opts_into_python3_on_path(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(require_python("3.12"))
    target = select_target(
        None, system=True, cwd=tmp_path, environ={"PATH": str(bin_dir)}, cache_dir=tmp_path
    )
    assert target.executable == str(bin_dir / "python3")
    assert not target.is_venv
