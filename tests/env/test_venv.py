"""Creating real virtual environments."""

from __future__ import annotations

import dataclasses
import stat
import subprocess
from pathlib import Path

import pytest

from pipwise.env.interpreters import inspect_interpreter
from pipwise.env.venv import create_venv
from pipwise.errors import DiagnosticError
from pipwise.target import Target
from tests.env import make_venv, require_python


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Target:
    return inspect_interpreter(require_python("3.12"), cache_dir=tmp_path_factory.mktemp("cache"))


def pyvenv_cfg(venv: Path) -> dict[str, str]:
    lines = (venv / "pyvenv.cfg").read_text(encoding="utf-8").splitlines()
    return {key.strip(): value.strip() for key, _, value in (line.partition("=") for line in lines)}


def has_pip(python: Path) -> bool:
    run = subprocess.run([str(python), "-I", "-m", "pip", "--version"], capture_output=True)
    return run.returncode == 0


def test_create_without_pip(tmp_path: Path, base: Target) -> None:
    python = create_venv(tmp_path / "venv", base)
    assert python == tmp_path / "venv" / "bin" / "python"
    assert not has_pip(python)
    assert not list((tmp_path / "venv").glob("lib/python3.12/site-packages/pip*"))
    assert pyvenv_cfg(tmp_path / "venv")["home"] == str(Path(base.executable).parent)
    assert inspect_interpreter(python, cache_dir=tmp_path).is_venv


def test_create_with_pip(tmp_path: Path, base: Target) -> None:
    assert has_pip(create_venv(tmp_path / "venv", base, seed=True))


def test_prompt_and_system_site_packages(tmp_path: Path, base: Target) -> None:
    create_venv(tmp_path / "venv", base, prompt="my-prompt", system_site_packages=True)
    assert "my-prompt" in (tmp_path / "venv" / "bin" / "activate").read_text(encoding="utf-8")
    assert pyvenv_cfg(tmp_path / "venv")["include-system-site-packages"] == "true"


def test_a_venv_interpreter_is_replaced_by_its_base(tmp_path: Path, base: Target) -> None:
    inner = inspect_interpreter(
        make_venv(tmp_path / "first", Path(base.executable)), cache_dir=tmp_path
    )
    create_venv(tmp_path / "second", inner)
    assert pyvenv_cfg(tmp_path / "second")["home"] == str(Path(base.executable).parent)


def test_interpreter_given_as_a_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPWISE_CACHE_DIR", str(tmp_path / "cache"))
    python = create_venv(tmp_path / "venv", str(require_python("3.12")))
    assert python.is_file()


def test_an_existing_venv_is_refused_unless_cleared(tmp_path: Path, base: Target) -> None:
    venv = tmp_path / "venv"
    create_venv(venv, base)
    (venv / "lib" / "marker").write_text("", encoding="utf-8")
    with pytest.raises(DiagnosticError) as caught:
        create_venv(venv, base)
    err = caught.value
    assert (err.code, err.kind) == ("venv-exists", "environment")
    assert err.fix == f"pipwise venv --clear {venv}"
    create_venv(venv, base, clear=True)
    assert not (venv / "lib" / "marker").exists()


def test_a_non_empty_directory_is_refused(tmp_path: Path, base: Target) -> None:
    (tmp_path / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(DiagnosticError) as caught:
        create_venv(tmp_path, base)
    assert caught.value.code == "venv-path-exists"
    assert caught.value.fix == f"pipwise venv {tmp_path / '.venv'}"
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_clear_never_empties_a_directory_that_is_not_a_venv(tmp_path: Path, base: Target) -> None:
    (tmp_path / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(DiagnosticError) as caught:
        create_venv(tmp_path, base, clear=True)
    err = caught.value
    assert (err.code, err.kind) == ("venv-path-exists", "environment")
    assert err.fix == f"pipwise venv {tmp_path / '.venv'}"
    assert err.note and "--clear only replaces a virtual environment" in err.note
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_file_is_refused_even_with_clear(tmp_path: Path, base: Target) -> None:
    (tmp_path / "env").write_text("a file", encoding="utf-8")
    with pytest.raises(DiagnosticError) as caught:
        create_venv(tmp_path / "env", base, clear=True)
    assert (caught.value.code, caught.value.fix) == ("venv-path-exists", None)
    assert (tmp_path / "env").read_text(encoding="utf-8") == "a file"


def test_missing_base_interpreter_offers_clear_only_for_a_venv(
    tmp_path: Path, base: Target
) -> None:
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / "pyvenv.cfg").write_text(f"home = {tmp_path / 'gone'}\n", encoding="utf-8")
    broken = dataclasses.replace(
        base, is_venv=True, prefix=str(venv), base_prefix=str(tmp_path / "gone")
    )
    with pytest.raises(DiagnosticError) as caught:
        create_venv(tmp_path / "new", broken)
    assert (caught.value.code, caught.value.fix) == ("broken-venv", f"pipwise venv --clear {venv}")

    (venv / "pyvenv.cfg").unlink()
    (venv / "data.txt").write_text("", encoding="utf-8")
    with pytest.raises(DiagnosticError) as caught:
        create_venv(tmp_path / "new", broken)
    assert (caught.value.code, caught.value.fix) == ("broken-venv", None)
    assert not (tmp_path / "new").exists()


def test_an_empty_directory_is_used(tmp_path: Path, base: Target) -> None:
    (tmp_path / "venv").mkdir()
    assert create_venv(tmp_path / "venv", base).is_file()


# Debian's venv without python3-venv prints this (on stdout) after making a pip-less venv.
DEBIAN_VENV = """\
#!/bin/sh
for last; do :; done
mkdir -p "$last"
echo 'The virtual environment was not created successfully because ensurepip is not'
echo 'available.  On Debian/Ubuntu systems, you need to install the python3-venv'
echo 'package using the following command.'
echo
echo '    apt install python3.11-venv'
exit 1
"""


def fake_base(tmp_path: Path, base: Target, script: str) -> Target:
    """A stand-in base interpreter (a script) for failures this machine cannot produce."""
    python = tmp_path / "bin" / "python3.11"
    python.parent.mkdir()
    python.write_text(script, encoding="utf-8")
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    return dataclasses.replace(base, executable=str(python), is_venv=False)


def test_debian_without_ensurepip(tmp_path: Path, base: Target) -> None:
    target = fake_base(tmp_path, base, DEBIAN_VENV)
    with pytest.raises(DiagnosticError) as caught:
        create_venv(tmp_path / "venv", target, seed=True)
    err = caught.value
    assert (err.code, err.kind) == ("venv-creation-failed", "environment")
    assert err.fix == "apt install python3.11-venv"
    assert any("ensurepip is not" in line for line in err.evidence)
    assert not (tmp_path / "venv").exists()


def test_other_failures_have_no_apt_fix(tmp_path: Path, base: Target) -> None:
    target = fake_base(
        tmp_path, base, "#!/bin/sh\necho 'Error: [Errno 28] No space left' >&2\nexit 1\n"
    )
    with pytest.raises(DiagnosticError) as caught:
        create_venv(tmp_path / "venv", target)
    err = caught.value
    assert err.code == "venv-creation-failed"
    assert err.fix is None
    assert any("No space left" in line for line in err.evidence)
