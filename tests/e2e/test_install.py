"""`pipwise install` end to end: real command, real index on 127.0.0.1, real environments."""

from __future__ import annotations

import json
import re
import socket
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import Pipwise, require_python, run_in
from tests.support.index_server import IndexServer, write_simple_index


def _files_in(venv: Path) -> set[Path]:
    return {p for p in venv.rglob("*") if p.is_file()}


def test_install_names_target_installs_dependencies_and_scripts(
    pipwise: Pipwise, index: IndexServer, venv: Path
) -> None:
    result = pipwise("install", "--python", str(venv), "--index-url", index.index_url, "app")
    assert result.returncode == 0, result.stderr
    first_line = result.stderr.splitlines()[0]
    assert first_line.startswith("Using Python 3.11")
    assert f"virtual environment {venv}" in first_line
    assert " + app==1.0" in result.stderr
    assert " + lib==2.0" in result.stderr  # newest final release, not 3.0b1
    assert "winonly" not in result.stderr  # marker for win32 only
    assert run_in(venv, "import app, lib; print(lib.__version__)") == "2.0"
    script = venv / "bin" / "app-hello"
    assert script.read_text().startswith(f"#!{venv}/bin/python")
    import subprocess

    out = subprocess.run([str(script)], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "hello from app"
    dist_info = next((venv / "lib" / "python3.11" / "site-packages").glob("app-1.0.dist-info"))
    assert (dist_info / "INSTALLER").read_text().strip() == "pipwise"
    assert (dist_info / "REQUESTED").exists()
    lib_info = next((venv / "lib" / "python3.11" / "site-packages").glob("lib-2.0.dist-info"))
    assert not (lib_info / "REQUESTED").exists()

    again = pipwise("install", "--python", str(venv), "--index-url", index.index_url, "app")
    assert again.returncode == 0
    assert "Nothing to do" in again.stderr


def test_extras_and_json_index(pipwise: Pipwise, index: IndexServer, venv: Path) -> None:
    result = pipwise(
        "install", "--python", str(venv), "--index-url", index.json_index_url, "app[fancy]"
    )
    assert result.returncode == 0, result.stderr
    assert " + fancy-dep==1.5" in result.stderr


def test_active_venv_and_dot_venv_are_found(
    pipwise: Pipwise, index: IndexServer, tmp_path: Path, venv: Path
) -> None:
    by_variable = pipwise("install", "-i", index.index_url, "lib==1.0", VIRTUAL_ENV=str(venv))
    assert by_variable.returncode == 0, by_variable.stderr
    assert f"virtual environment {venv}" in by_variable.stderr
    project = tmp_path / "project"
    (project / "sub").mkdir(parents=True)
    venv.rename(project / ".venv")
    from_parent = pipwise("list", "--format", "freeze", cwd=project / "sub")
    assert from_parent.returncode == 0, from_parent.stderr
    assert "lib==1.0" in from_parent.stdout


def test_no_environment_is_a_diagnosis_not_a_system_install(
    pipwise: Pipwise, index: IndexServer, tmp_path: Path
) -> None:
    requests_before = len(index.requests)
    result = pipwise("install", "-i", index.index_url, "lib", cwd=tmp_path)
    assert result.returncode == 2
    assert "error[no-environment]" in result.stderr
    assert "fix: pipwise venv" in result.stderr
    assert len(index.requests) == requests_before  # stopped before touching the index


def test_requires_python_and_tags_follow_the_target(
    pipwise: Pipwise, index: IndexServer, tmp_path: Path
) -> None:
    python38 = require_python("3.8")
    created = pipwise("venv", str(tmp_path / "env38"), "--python", str(python38))
    assert created.returncode == 0, created.stderr
    venv = tmp_path / "env38"
    result = pipwise("install", "--python", str(venv), "-i", index.index_url, "lib", "native")
    assert result.returncode == 0, result.stderr
    assert " + lib==1.0" in result.stderr  # 2.0 requires Python >= 3.9
    assert " + native==1.0" in result.stderr
    tags = run_in(
        venv,
        "import pathlib,glob; print(open(glob.glob('" + str(venv) + "/lib/python3.8/"
        "site-packages/native-1.0.dist-info/WHEEL')[0]).read())",
    )
    assert "cp38-cp38-manylinux_2_17_x86_64" in tags


def test_python_313_target(pipwise: Pipwise, index: IndexServer, tmp_path: Path) -> None:
    require_python("3.13")
    venv = tmp_path / "env313"
    assert pipwise("venv", str(venv), "--python", "3.13").returncode == 0
    result = pipwise("install", "--python", str(venv), "-i", index.index_url, "app")
    assert result.returncode == 0, result.stderr
    assert run_in(venv, "import sys, app; print(sys.version_info[:2])") == "(3, 13)"


def test_prereleases_only_when_asked_or_only_choice(
    pipwise: Pipwise, index: IndexServer, venv: Path
) -> None:
    pre = pipwise("install", "--python", str(venv), "-i", index.index_url, "--pre", "lib")
    assert " + lib==3.0b1" in pre.stderr, pre.stderr
    only = pipwise("install", "--python", str(venv), "-i", index.index_url, "onlypre")
    assert " + onlypre==1.0a1" in only.stderr, only.stderr


def test_yanked_only_for_exact_pins(pipwise: Pipwise, index: IndexServer, venv: Path) -> None:
    loose = pipwise("install", "--python", str(venv), "-i", index.index_url, "yanky")
    assert " + yanky==1.0" in loose.stderr, loose.stderr
    pinned = pipwise("install", "--python", str(venv), "-i", index.index_url, "yanky==2.0")
    assert " ~ yanky 1.0 -> 2.0" in pinned.stderr, pinned.stderr


def test_direct_wheel_path_records_direct_url(
    pipwise: Pipwise, dists_dir: Path, venv: Path
) -> None:
    wheel = dists_dir / "lib-1.0-py3-none-any.whl"
    result = pipwise("install", "--python", str(venv), "--no-index", str(wheel))
    assert result.returncode == 0, result.stderr
    direct = json.loads(
        next(venv.rglob("lib-1.0.dist-info/direct_url.json")).read_text(encoding="utf-8")
    )
    assert direct["url"] == wheel.as_uri()
    assert "archive_info" in direct
    freeze = pipwise("freeze", "--python", str(venv))
    assert f"lib @ {wheel.as_uri()}" in freeze.stdout


def test_find_links_directory_without_index(pipwise: Pipwise, dists_dir: Path, venv: Path) -> None:
    result = pipwise(
        "install", "--python", str(venv), "--no-index", "--find-links", str(dists_dir), "app"
    )
    assert result.returncode == 0, result.stderr
    assert " + lib==2.0" in result.stderr


def test_requirements_file(
    pipwise: Pipwise, index: IndexServer, venv: Path, tmp_path: Path
) -> None:
    (tmp_path / "base.txt").write_text("lib==1.0  # pinned\n")
    (tmp_path / "requirements.txt").write_text(f"-i {index.index_url}\n-r base.txt\napp\n")
    result = pipwise("install", "--python", str(venv), "-r", str(tmp_path / "requirements.txt"))
    assert result.returncode == 0, result.stderr
    assert " + lib==1.0" in result.stderr


# -- bad inputs change nothing and say why -------------------------------------------------


def test_single_equals_is_an_invalid_requirement(
    pipwise: Pipwise, index: IndexServer, venv: Path
) -> None:
    before = _files_in(venv)
    result = pipwise("install", "--python", str(venv), "-i", index.index_url, "requests=2.31.0")
    assert result.returncode == 2
    assert "error[invalid-requirement]" in result.stderr
    # The fix repeats the whole command with only the typo corrected.
    assert (
        f"fix: pipwise install --python {venv} --index-url {index.index_url} requests==2.31.0\n"
        in result.stderr
    )
    assert _files_in(venv) == before


def test_unknown_package(pipwise: Pipwise, index: IndexServer, venv: Path) -> None:
    before = _files_in(venv)
    result = pipwise("install", "--python", str(venv), "-i", index.index_url, "reqests")
    assert result.returncode == 1
    assert "error[package-not-found]" in result.stderr
    assert "reqests" in result.stderr
    assert index.index_url in result.stderr
    assert _files_in(venv) == before


def test_missing_requirements_file(pipwise: Pipwise, venv: Path, tmp_path: Path) -> None:
    result = pipwise("install", "--python", str(venv), "-r", str(tmp_path / "nope.txt"))
    assert result.returncode == 2
    assert "error[requirements-file-not-found]" in result.stderr


def test_dead_index_fails_fast(pipwise: Pipwise, venv: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    before = _files_in(venv)
    started = time.monotonic()
    result = pipwise(
        "install", "--python", str(venv), "-i", f"http://127.0.0.1:{port}/simple", "lib"
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 2
    assert "error[index-unreachable]" in result.stderr
    assert f"127.0.0.1:{port}" in result.stderr
    assert elapsed < 20  # fails fast rather than retrying for minutes
    assert _files_in(venv) == before


def test_conflict_is_explained(pipwise: Pipwise, index: IndexServer, venv: Path) -> None:
    result = pipwise(
        "install", "--python", str(venv), "-i", index.index_url, "conflict-a", "conflict-b"
    )
    assert result.returncode == 1
    assert "error[resolution-impossible]" in result.stderr
    for name in ("conflict-a", "conflict-b", "shared"):
        assert name in result.stderr
    explanation = result.stderr.split("error[", 1)[1]
    assert "root" not in explanation.replace(str(venv), "")
    assert "∅" not in explanation


def test_sdist_only_is_a_clear_diagnosis(pipwise: Pipwise, index: IndexServer, venv: Path) -> None:
    result = pipwise("install", "--python", str(venv), "-i", index.index_url, "sdistonly")
    assert result.returncode == 1
    assert "error[source-build-unsupported]" in result.stderr
    assert "sdistonly-1.0.tar.gz" in result.stderr


def test_platform_only_wheels(pipwise: Pipwise, index: IndexServer, venv: Path) -> None:
    result = pipwise("install", "--python", str(venv), "-i", index.index_url, "windows-only")
    assert result.returncode == 1
    assert "error[no-compatible-distribution]" in result.stderr
    assert "win_amd64" in result.stderr


def test_json_errors(pipwise: Pipwise, index: IndexServer, venv: Path) -> None:
    result = pipwise(
        "install", "--python", str(venv), "-i", index.index_url, "--format", "json", "a=1"
    )
    assert result.returncode == 2
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "invalid-requirement"
    assert error["fix"] == f"pipwise install --python {venv} --index-url {index.index_url} a==1"


def test_externally_managed_interpreter_is_refused(
    pipwise: Pipwise, index: IndexServer, tmp_path: Path
) -> None:
    system = Path("/usr/bin/python3")
    if not system.exists() or not list(Path("/usr/lib").glob("python3*/EXTERNALLY-MANAGED")):
        pytest.skip("no externally managed system Python on this machine")
    result = pipwise("install", "--python", str(system), "-i", index.index_url, "lib", cwd=tmp_path)
    assert result.returncode == 2
    assert "error[externally-managed-environment]" in result.stderr
    venv = tmp_path / ".venv"
    # The fix repeats the request in a new environment here, ready to paste.
    assert (
        f"fix: pipwise venv {venv} --python {system} && pipwise install --python {venv} "
        f"--index-url {index.index_url} lib\n" in result.stderr
    )
    assert "--break-system-packages" in result.stderr
    removal = pipwise("uninstall", "--python", str(system), "-y", "lib", cwd=tmp_path)
    assert removal.returncode == 2
    assert "will not uninstall packages from it" in removal.stderr
    assert "fix:" not in removal.stderr  # a venv is no way to remove a system package


MACHINE_INDEX = Path("/opt/pypi/simple")


def test_machine_file_index_requests_and_rich(pipwise: Pipwise, venv: Path) -> None:
    """The local file index this machine's pip configuration names (skipped elsewhere)."""
    if not (MACHINE_INDEX / "requests" / "index.html").exists():
        pytest.skip(f"no local file index at {MACHINE_INDEX}")
    result = pipwise(
        "install", "--python", str(venv), "--index-url", MACHINE_INDEX.as_uri(), "requests", "rich"
    )
    assert result.returncode == 0, result.stderr
    assert run_in(venv, "import requests, rich; print('ok')") == "ok"
    names = {
        line.split("==")[0] for line in pipwise("freeze", "--python", str(venv)).stdout.split()
    }
    assert {"requests", "rich", "urllib3", "idna", "certifi", "markdown-it-py"} <= names


def test_misspelled_name_on_a_file_index_suggests_the_real_one(
    pipwise: Pipwise, dists_dir: Path, venv: Path, tmp_path: Path
) -> None:
    root = tmp_path / "file-index"
    (root / "files").mkdir(parents=True)
    for wheel in dists_dir.glob("*.whl"):
        (root / "files" / wheel.name).write_bytes(wheel.read_bytes())
    index_url = write_simple_index(root)
    result = pipwise("install", "--python", str(venv), "-i", index_url, "fancy_dpe>=1")
    assert result.returncode == 1
    assert "similar names on the index: fancy-dep" in result.stderr
    assert (
        f"fix: pipwise install --python {venv} --index-url {index_url} 'fancy-dep>=1'\n"
        in result.stderr
    )


def test_requires_python_is_explained_with_a_checked_fix(
    pipwise: Pipwise, tmp_path: Path, venv: Path
) -> None:
    from tests.support.wheels import WheelSpec, build_wheel

    root = tmp_path / "rp-index"
    for spec in (WheelSpec("lib", "2.0"), WheelSpec("lib", "3.0", requires_python=">=3.12")):
        build_wheel(spec, root / "files")
    index_url = write_simple_index(
        root, annotations={"lib-3.0-py3-none-any.whl": {"requires_python": ">=3.12"}}
    )
    result = pipwise("install", "--python", str(venv), "-i", index_url, "lib>=3")
    assert result.returncode == 1
    assert re.fullmatch(
        r"error\[resolution-impossible\]: lib 3\.0 requires Python >=3\.12, "
        r"but the target is Python 3\.11\.\d+",
        result.stderr.splitlines()[1],
    )
    assert "lib 3.0: requires Python >=3.12" in result.stderr
    # The fix was checked by the solver: without ">=3" the request resolves to lib 2.0.
    assert f"fix: pipwise install --python {venv} --index-url {index_url} lib\n" in result.stderr
    verbose = pipwise("install", "-v", "--python", str(venv), "-i", index_url, "lib>=3")
    assert "derivation:" in verbose.stderr
    assert "lib 3.0 depends on Python>=3.12, which the target's Python 3.11" in verbose.stderr
    as_json = pipwise(
        "install", "--format", "json", "--python", str(venv), "-i", index_url, "lib>=3"
    )
    error = json.loads(as_json.stdout)["error"]
    assert error["details"]["explanation"][0]["facts"]


def test_yanked_only_gets_a_checked_exact_pin(
    pipwise: Pipwise, index: IndexServer, venv: Path
) -> None:
    # yanky 2.0 is yanked; 1.0 is not, so yanky resolves. A pin that excludes 1.0 fails:
    result = pipwise("install", "--python", str(venv), "-i", index.index_url, "yanky>1")
    assert result.returncode == 1
    assert "yanky 2.0: yanked (broken build)" in result.stderr
    assert (
        f"fix: pipwise install --python {venv} --index-url {index.index_url} yanky==2.0\n"
        in result.stderr
    )


def test_trusted_host_is_warned_about_with_its_origin(
    pipwise: Pipwise, index: IndexServer, venv: Path
) -> None:
    result = pipwise(
        "install", "--python", str(venv), "-i", index.index_url, "lib", PIP_TRUSTED_HOST="h.test"
    )
    assert result.returncode == 0, result.stderr
    assert (
        "warning: TLS certificates are not verified for h.test (trusted-host, from "
        "PIP_TRUSTED_HOST)" in result.stderr
    )


def test_a_checked_change_to_a_requirements_file_is_a_note(
    pipwise: Pipwise, tmp_path: Path, venv: Path
) -> None:
    from tests.support.wheels import WheelSpec, build_wheel

    root = tmp_path / "rp-index"
    for spec in (WheelSpec("lib", "2.0"), WheelSpec("lib", "3.0", requires_python=">=3.12")):
        build_wheel(spec, root / "files")
    index_url = write_simple_index(root)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("lib>=3\n")
    result = pipwise("install", "--python", str(venv), "-i", index_url, "-r", str(requirements))
    assert result.returncode == 1
    assert f"change {requirements}:1 to 'lib'" in result.stderr
    assert "fix:" not in result.stderr  # editing a file is not a command to paste
