"""venv, list, freeze, show and uninstall end to end."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import Pipwise, run_in
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
    site = venv / "lib" / "python3.11" / "site-packages"
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
