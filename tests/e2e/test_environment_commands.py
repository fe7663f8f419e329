"""venv, list, freeze, show and uninstall end to end."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import pipwise
from tests.e2e.conftest import Pipwise, run_in, site_packages
from tests.support.index_server import IndexServer


def test_venv_is_fast_and_pipless_unless_seeded(pipwise: Pipwise, tmp_path: Path) -> None:
    result = pipwise("venv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / ".venv" / "pyvenv.cfg").exists()
    assert not list((tmp_path / ".venv").rglob("pip/__init__.py"))
    seeded = pipwise("venv", str(tmp_path / "seeded"), "--seed", "--prompt", "demo")
    assert seeded.returncode == 0, seeded.stderr
    assert run_in(tmp_path / "seeded", "import pip; print('ok')") == "ok"
    assert "prompt = 'demo'" in (tmp_path / "seeded" / "pyvenv.cfg").read_text()
    again = pipwise("venv", cwd=tmp_path)
    assert again.returncode == 2
    assert "--clear" in again.stderr


def test_list_freeze_show_uninstall_round_trip(
    pipwise: Pipwise, index: IndexServer, venv: Path
) -> None:
    assert pipwise("install", "--python", str(venv), "-i", index.index_url, "app").returncode == 0
    listed = pipwise("list", "--python", str(venv), "--format", "json")
    assert {"name": "app", "version": "1.0"} in json.loads(listed.stdout)
    columns = pipwise("list", "--python", str(venv)).stdout.splitlines()
    assert columns[0].split() == ["Package", "Version"]
    assert pipwise("freeze", "--python", str(venv)).stdout.splitlines() == ["app==1.0", "lib==2.0"]
    show = pipwise("show", "--python", str(venv), "-f", "app")
    assert "Name: app\nVersion: 1.0\n" in show.stdout
    assert "Requires: lib\n" in show.stdout
    assert "  app/__init__.py" in show.stdout
    assert "Required-by: app" in pipwise("show", "--python", str(venv), "lib").stdout
    missing = pipwise("show", "--python", str(venv), "nothere")
    assert missing.returncode == 1

    removed = pipwise("uninstall", "--python", str(venv), "-y", "app", "lib")
    assert removed.returncode == 0, removed.stderr
    assert " - app==1.0" in removed.stderr
    assert not (venv / "bin" / "app-hello").exists()
    site = site_packages(venv)
    assert not (site / "app").exists()
    assert not list(site.glob("*.dist-info"))
    assert pipwise("freeze", "--python", str(venv)).stdout == ""


def test_help_and_version(pipwise: Pipwise) -> None:
    version = pipwise("--version")
    assert version.returncode == 0
    assert version.stdout.startswith("pipwise ")
    for command in ("install", "uninstall", "list", "freeze", "show", "venv"):
        helped = pipwise(command, "--help")
        assert helped.returncode == 0
        assert "examples:" in helped.stdout


def test_venv_clear_refuses_a_directory_that_is_not_a_venv(
    pipwise: Pipwise, tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("keep me", encoding="utf-8")
    result = pipwise("venv", "--clear", str(tmp_path))
    assert result.returncode == 2
    assert "error[venv-path-exists]" in result.stderr
    assert "fix: pipwise venv --clear" not in result.stderr
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_uninstall_asks_and_reads_the_answer_from_a_pipe(
    pipwise: Pipwise, index: IndexServer, venv: Path
) -> None:
    assert pipwise("install", "--python", str(venv), "-i", index.index_url, "lib").returncode == 0
    site = site_packages(venv)
    assert (site / "lib").is_dir()

    for answer in ("n\n", ""):  # `echo n |`, then `</dev/null` (end of input means no)
        kept = pipwise("uninstall", "--python", str(venv), "lib", stdin=answer)
        assert kept.returncode == 0, kept.stderr
        assert "Uninstall lib==2.0? [Y/n]" in kept.stderr
        assert "Nothing was removed (-y removes without asking)." in kept.stderr
        assert (site / "lib").is_dir()

    removed = pipwise("uninstall", "--python", str(venv), "-y", "lib", stdin="n\n")
    assert removed.returncode == 0, removed.stderr
    assert "[Y/n]" not in removed.stderr, "-y does not ask"
    assert not (site / "lib").exists()


def test_legacy_and_damaged_metadata_are_shown_not_tracebacks(
    pipwise: Pipwise, index: IndexServer, venv: Path
) -> None:
    assert pipwise("install", "--python", str(venv), "-i", index.index_url, "app").returncode == 0
    site = site_packages(venv)
    app_info, lib_info = site / "app-1.0.dist-info", site / "lib-2.0.dist-info"
    with (app_info / "METADATA").open("a", encoding="utf-8") as metadata:
        # An unevaluable marker (~= needs two version parts): skipped, never a crash.
        metadata.write('Requires-Dist: lib; python_version ~= "3"\n')
    (app_info / "INSTALLER").write_bytes(b"caf\xe9\n")
    (lib_info / "RECORD").unlink()
    egg = site / "legacy-3.0-py3.11.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: legacy\nVersion: 3.0\n")
    (egg / "requires.txt").write_text("lib\n[extra]\napp\n")
    (site / "legacy").mkdir()
    (site / "legacy" / "__init__.py").write_text("")

    listed = pipwise("list", "--python", str(venv), "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert {row["name"] for row in json.loads(listed.stdout)} == {"app", "lib", "legacy"}
    frozen = pipwise("freeze", "--python", str(venv))
    assert frozen.stdout.splitlines() == ["app==1.0", "legacy==3.0", "lib==2.0"]

    show = pipwise("show", "--python", str(venv), "-f", "lib", "app", "legacy")
    assert show.returncode == 0, show.stderr
    assert "Traceback" not in show.stderr
    lib_part, app_part, legacy_part = show.stdout.split("\n---\n")
    assert "Required-by: app, legacy\n" in lib_part
    assert lib_part.endswith("Files:\nCannot locate RECORD or installed-files.txt")
    assert "Requires: lib\n" in app_part
    assert "Requires: lib\n" in legacy_part and "Files:\nCannot locate" in legacy_part

    refused = pipwise("uninstall", "--python", str(venv), "-y", "legacy", "app")
    assert refused.returncode == 2
    assert "error[legacy-egg-info-uninstall]" in refused.stderr
    assert (site / "legacy" / "__init__.py").exists() and (site / "app").is_dir()


SYSTEM_PYTHON = Path("/usr/bin/python3.11")


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory another user can read (pytest's own tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="pipwise-e2e-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def as_nobody(*command: str, cwd: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    """Run pipwise as the unprivileged user ``nobody``, with the system Python.

    pipwise's own interpreter lives under /root here, which nobody cannot enter, so the
    system Python of the same version runs this checkout with the test venv's packages.
    """
    environ = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": os.pathsep.join(
            [str(Path(pipwise.__file__).parents[1]), sysconfig.get_paths()["purelib"]]
        ),
        "PIPWISE_CACHE_DIR": str(cache),
        "PIP_CONFIG_FILE": os.devnull,
        "NO_COLOR": "1",
    }
    settings = [f"{key}={value}" for key, value in environ.items()]
    python = [str(SYSTEM_PYTHON), "-m", "pipwise"]
    return subprocess.run(
        ["runuser", "-u", "nobody", "--", "env", "-i", *settings, *python, *command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_uninstall_by_a_user_who_cannot_write_there_is_refused(
    pipwise: Pipwise, index: IndexServer, shared_dir: Path
) -> None:
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        pytest.skip("needs root and runuser(1) to act as the unprivileged user nobody")
    if not SYSTEM_PYTHON.is_file() or sys.version_info[:2] != (3, 11):
        pytest.skip(f"needs {SYSTEM_PYTHON}, the same version as the test interpreter")
    cache = shared_dir / "cache"
    cache.mkdir(mode=0o777)
    cache.chmod(0o777)
    venv = shared_dir / "env"
    subprocess.run([str(SYSTEM_PYTHON), "-m", "venv", "--without-pip", str(venv)], check=True)
    installed = pipwise("install", "--python", str(venv), "-i", index.index_url, "lib")
    assert installed.returncode == 0, installed.stderr
    if as_nobody("--version", cwd=shared_dir, cache=cache).returncode != 0:
        pytest.skip("nobody cannot import this checkout with the system Python")

    uninstall = ["uninstall", "--python", str(venv), "-y", "lib", "--format", "json"]
    result = as_nobody(*uninstall, cwd=shared_dir, cache=cache)

    assert result.returncode == 2, result.stderr
    error = json.loads(result.stdout)["error"]
    site = site_packages(venv)
    assert error["code"] == "site-not-writable"
    assert error["cause"].startswith("User nobody cannot remove packages from")
    assert error["evidence"] == [
        f"{site} is not writable by user nobody",
        f"{site} is owned by root",
    ]
    assert error["fix"] is None
    assert "pipwise venv" in error["note"] and "sudo" not in result.stdout
    assert (site / "lib").is_dir()


def test_uninstall_typo_fix_is_an_uninstall_command(pipwise: Pipwise, venv: Path) -> None:
    result = pipwise("uninstall", "--python", str(venv), "-y", "requests=2.31.0")
    assert result.returncode == 2
    assert f"fix: pipwise uninstall --python {venv} -y requests==2.31.0\n" in result.stderr
