"""Inspecting and finding real interpreters: tags from the probe, the probe cache, diagnoses."""

from __future__ import annotations

import json
import os
import platform
import stat
import sys
from pathlib import Path

import pytest
from packaging.tags import sys_tags

from pipwise.env.interpreters import discover_interpreters, find_interpreter, inspect_interpreter
from pipwise.errors import DiagnosticError
from tests.env import PYENV_ROOT, make_venv, require_python

needs_x86_64_glibc = pytest.mark.skipif(
    not (sys.platform == "linux" and platform.machine() == "x86_64" and platform.libc_ver()[0]),
    reason="tag expectations are written for x86_64 glibc Linux",
)


def tag_strings(python: Path, cache_dir: Path) -> list[str]:
    return [str(tag) for tag in inspect_interpreter(python, cache_dir=cache_dir).tags]


def executable_script(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@needs_x86_64_glibc
def test_tags_of_a_311_target_follow_manylinux_order(tmp_path: Path) -> None:
    tags = tag_strings(require_python("3.11"), tmp_path)
    at = tags.index
    assert at("cp311-cp311-manylinux_2_17_x86_64") < at("py3-none-any")
    assert at("cp311-cp311-manylinux2014_x86_64") == at("cp311-cp311-manylinux_2_17_x86_64") + 1
    assert at("cp311-cp311-manylinux2010_x86_64") == at("cp311-cp311-manylinux_2_12_x86_64") + 1
    assert at("cp311-cp311-manylinux1_x86_64") == at("cp311-cp311-manylinux_2_5_x86_64") + 1
    assert at("cp311-cp311-linux_x86_64") == at("cp311-cp311-manylinux1_x86_64") + 1
    assert at("cp311-cp311-linux_x86_64") < at("cp311-abi3-manylinux_2_17_x86_64")
    assert at("cp38-abi3-manylinux_2_17_x86_64") < at("cp311-none-any") < at("py3-none-any")
    assert not any(tag.startswith("cp312") for tag in tags)


@needs_x86_64_glibc
def test_tags_of_a_38_target(tmp_path: Path) -> None:
    tags = tag_strings(require_python("3.8"), tmp_path)
    assert tags[0].startswith("cp38-cp38-manylinux_2_")
    assert "cp38-cp38-manylinux_2_17_x86_64" in tags
    assert "py38-none-any" in tags
    assert not any(tag.startswith(("cp39", "cp311")) for tag in tags)


def test_tags_agree_with_packaging_for_the_running_interpreter(tmp_path: Path) -> None:
    ours = [str(tag) for tag in inspect_interpreter(sys.executable, cache_dir=tmp_path).tags]
    theirs = [str(tag) for tag in sys_tags()]
    assert set(ours) == set(theirs)

    # packaging >= 26.3 moves the native linux_* platform first; pipwise keeps it last.
    def portable(tags: list[str]) -> list[str]:
        return [tag for tag in tags if "-linux_" not in tag]

    assert portable(ours) == portable(theirs)


def test_target_of_a_venv(tmp_path: Path) -> None:
    python = make_venv(tmp_path / "venv", require_python("3.12"))
    target = inspect_interpreter(python, cache_dir=tmp_path / "cache")
    assert target.executable == str(python)
    assert target.is_venv
    assert target.prefix == str(tmp_path / "venv")
    assert target.user_scheme is None
    assert target.externally_managed is None
    assert target.scheme.purelib == str(tmp_path / "venv/lib/python3.12/site-packages")
    assert target.markers["python_version"] == "3.12"


def only_entry(cache_dir: Path) -> Path:
    (entry,) = (cache_dir / "interpreter-v1").glob("*.json")
    return entry


def test_the_probe_cache_is_used_then_invalidated_by_pyvenv_cfg(tmp_path: Path) -> None:
    python = make_venv(tmp_path / "venv", require_python("3.12"))
    cache = tmp_path / "cache"
    first = inspect_interpreter(python, cache_dir=cache)
    entry = only_entry(cache)
    # Tamper with the cached answer: seeing it proves the second call did not re-probe.
    facts = json.loads(entry.read_text(encoding="utf-8"))
    facts["version_string"] = "from-the-cache"
    entry.write_text(json.dumps(facts), encoding="utf-8")
    assert inspect_interpreter(python, cache_dir=cache).version_string == "from-the-cache"

    cfg = tmp_path / "venv" / "pyvenv.cfg"
    mtime = cfg.stat().st_mtime_ns + 5_000_000_000
    os.utime(cfg, ns=(mtime, mtime))
    assert inspect_interpreter(python, cache_dir=cache) == first
    assert len(list((cache / "interpreter-v1").glob("*.json"))) == 2


def test_a_corrupt_cache_entry_is_ignored_and_replaced(tmp_path: Path) -> None:
    python = require_python("3.12")
    first = inspect_interpreter(python, cache_dir=tmp_path)
    entry = only_entry(tmp_path)
    entry.write_text('{"probe_version": 1, "truncated', encoding="utf-8")
    assert inspect_interpreter(python, cache_dir=tmp_path) == first
    assert json.loads(entry.read_text(encoding="utf-8"))["version_info"][:2] == [3, 12]


def test_without_a_cache_dir_nothing_is_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIPWISE_CACHE_DIR", str(tmp_path / "env-cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    target = inspect_interpreter(require_python("3.12"), cache_dir=None)  # --no-cache-dir
    assert target.version[:2] == (3, 12)
    assert list(tmp_path.rglob("*.json")) == []


@pytest.mark.parametrize("version", ["2.7", "3.6", "3.7"])
def test_old_interpreters_are_unsupported(version: str, tmp_path: Path) -> None:
    python = require_python(version)
    with pytest.raises(DiagnosticError) as caught:
        inspect_interpreter(python, cache_dir=tmp_path)
    err = caught.value
    assert (err.code, err.kind) == ("interpreter-unsupported", "environment")
    assert f"Python {version}." in err.cause
    assert any(str(python) in line for line in err.evidence)
    assert err.note and "--python" in err.note


def test_a_missing_interpreter(tmp_path: Path) -> None:
    with pytest.raises(DiagnosticError) as caught:
        inspect_interpreter(tmp_path / "nope" / "python", cache_dir=tmp_path)
    assert caught.value.code == "interpreter-not-found"
    assert "does not exist" in caught.value.cause


def test_a_non_executable_file(tmp_path: Path) -> None:
    (tmp_path / "python").write_text("", encoding="utf-8")
    with pytest.raises(DiagnosticError) as caught:
        inspect_interpreter(tmp_path / "python", cache_dir=tmp_path)
    assert caught.value.code == "interpreter-not-found"
    assert "not an executable" in caught.value.cause


def test_a_venv_whose_base_interpreter_is_gone(tmp_path: Path) -> None:
    python = make_venv(tmp_path / "venv", require_python("3.12"))
    python.unlink()
    python.symlink_to(tmp_path / "removed" / "python3.12")
    with pytest.raises(DiagnosticError) as caught:
        inspect_interpreter(python, cache_dir=tmp_path)
    err = caught.value
    assert err.code == "broken-interpreter"
    assert any("removed/python3.12" in line for line in err.evidence)
    assert err.fix == f"pipwise venv --clear {tmp_path / 'venv'}"


def test_a_failing_probe_shows_its_stderr(tmp_path: Path) -> None:
    python = executable_script(
        tmp_path / "python", "#!/bin/sh\necho 'boom: no stdlib' >&2\nexit 3\n"
    )
    with pytest.raises(DiagnosticError) as caught:
        inspect_interpreter(python, cache_dir=tmp_path)
    err = caught.value
    assert err.code == "broken-interpreter"
    assert "status 3" in err.cause
    assert "boom: no stdlib" in err.evidence


def environ_with(path: list[Path], pyenv_root: Path | None = None) -> dict[str, str]:
    environ = {"PATH": os.pathsep.join(map(str, path))}
    if pyenv_root is not None:
        environ["PYENV_ROOT"] = str(pyenv_root)
    return environ


def test_find_a_version_from_pyenv(tmp_path: Path) -> None:
    python = require_python("3.12")
    found = find_interpreter("3.12", environ=environ_with([tmp_path], PYENV_ROOT))
    assert found == python
    full = python.parent.parent.name
    assert find_interpreter(full, environ=environ_with([tmp_path], PYENV_ROOT)) == python
    assert inspect_interpreter(found, cache_dir=tmp_path).version_string == full


def test_find_a_version_with_the_real_path() -> None:
    found = find_interpreter("3.12", environ={**os.environ, "PYENV_ROOT": str(PYENV_ROOT)})
    assert found.name == "python3.12"


def test_find_prefers_path_and_skips_shims(tmp_path: Path) -> None:
    real = require_python("3.12")
    shims, bin_dir = tmp_path / "shims", tmp_path / "bin"
    shims.mkdir()
    bin_dir.mkdir()
    executable_script(shims / "python3.12", "#!/bin/sh\nexit 127\n")
    (bin_dir / "python3.12").symlink_to(real)
    environ = environ_with([shims, bin_dir], PYENV_ROOT)
    assert find_interpreter("3.12", environ=environ) == bin_dir / "python3.12"
    # X.Y.Z on PATH is confirmed by asking the interpreter.
    full = real.parent.parent.name
    assert find_interpreter(full, environ=environ) == bin_dir / "python3.12"
    assert find_interpreter("python3.12", environ=environ) == bin_dir / "python3.12"


def test_pyenv_versions_stand_where_pyenv_shims_stand_on_path(tmp_path: Path) -> None:
    real = require_python("3.12")
    root = tmp_path / "pyenv"
    version_bin = root / "versions" / "3.12.99" / "bin"
    version_bin.mkdir(parents=True)
    (version_bin / "python3.12").symlink_to(real)
    (root / "shims").mkdir()
    executable_script(root / "shims" / "python3.12", "#!/bin/sh\nexit 127\n")
    later = tmp_path / "usr-bin"
    later.mkdir()
    (later / "python3.12").symlink_to(real)
    first = find_interpreter("3.12", environ=environ_with([root / "shims", later], root))
    assert first == version_bin / "python3.12"
    # Without pyenv's shims on PATH, PATH wins and pyenv comes after it.
    assert find_interpreter("3.12", environ=environ_with([later], root)) == later / "python3.12"


def test_find_a_path_or_a_venv_directory(tmp_path: Path) -> None:
    python = make_venv(tmp_path / "venv", require_python("3.12"))
    assert find_interpreter(str(tmp_path / "venv"), environ={}) == python
    assert find_interpreter(str(python), environ={}) == python


def test_find_reports_where_it_looked(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3.12").symlink_to(require_python("3.12"))
    pyenv = tmp_path / "pyenv"
    (pyenv / "versions").mkdir(parents=True)
    with pytest.raises(DiagnosticError) as caught:
        find_interpreter("3.99", environ=environ_with([bin_dir], pyenv))
    err = caught.value
    assert (err.code, err.kind) == ("interpreter-not-found", "environment")
    assert "'3.99'" in err.cause
    assert str(bin_dir) in err.evidence[0]
    assert "3.12" in err.evidence[1]
    assert err.fix == "pyenv install 3.99"


def test_discover_interpreters_are_unique_and_real(tmp_path: Path) -> None:
    python = require_python("3.12")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3.12").symlink_to(python)
    found = discover_interpreters(environ_with([bin_dir], PYENV_ROOT))
    assert python in found
    assert bin_dir / "python3.12" not in found
    assert len(found) == len(set(found))
    assert all(path == path.resolve() for path in found)
