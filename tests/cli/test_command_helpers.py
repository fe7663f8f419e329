"""Helpers the environment commands share (`pipwise.commands._environment`, `freeze_line`).

They sit beside the CLI tests because they decide what a user is told before anything runs.
"""

from __future__ import annotations

import dataclasses
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from pipwise.commands._environment import editable_location, require_writable
from pipwise.commands.freeze import freeze_line
from pipwise.dists import DirectUrl
from pipwise.env.interpreters import inspect_interpreter
from pipwise.errors import DiagnosticError
from pipwise.install.installed import InstalledDistribution
from pipwise.target import Target
from tests.support.installed import installed_dist


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Target:
    """This interpreter, as a user who cannot write to its site-packages would see it."""
    target = inspect_interpreter(sys.executable, cache_dir=tmp_path_factory.mktemp("cache"))
    return dataclasses.replace(target, site_writable=False)


def refusal(target: Target, cwd: Path, *, uninstall: bool = False) -> DiagnosticError:
    with pytest.raises(DiagnosticError) as caught:
        require_writable(target, cwd=cwd, uninstall=uninstall)
    err = caught.value
    assert (err.code, err.kind) == ("site-not-writable", "environment")
    assert f"{target.scheme.purelib} is not writable by user " in err.evidence[0]
    assert "sudo" not in f"{err.cause} {err.evidence} {err.fix} {err.note}"
    return err


def test_a_writable_target_passes(locked: Target, tmp_path: Path) -> None:
    require_writable(dataclasses.replace(locked, site_writable=True), cwd=tmp_path)


def test_install_gets_a_venv_here_and_the_fix_works(locked: Target, tmp_path: Path) -> None:
    err = refusal(locked, tmp_path)
    venv = tmp_path / ".venv"
    assert err.fix == f"pipwise venv {venv} --python {shlex.quote(locked.executable)}"
    assert err.note and f"--python {venv}" in err.note

    words = shlex.split(err.fix)
    assert words[0] == "pipwise"
    environ = {**os.environ, "PIPWISE_CACHE_DIR": str(tmp_path / "cache")}
    run = subprocess.run(
        [sys.executable, "-m", "pipwise", *words[1:]],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert (venv / "pyvenv.cfg").is_file()

    again = refusal(locked, tmp_path)  # now .venv exists: point at it, nothing to create
    assert again.fix is None
    assert again.note and f"--python {venv}" in again.note


def test_no_fix_when_a_venv_cannot_be_made_here(locked: Target, tmp_path: Path) -> None:
    (tmp_path / ".venv").write_text("not a venv", encoding="utf-8")
    assert refusal(locked, tmp_path).fix is None


def test_uninstall_has_no_fix(locked: Target, tmp_path: Path) -> None:
    err = refusal(locked, tmp_path, uninstall=True)
    assert err.fix is None
    assert err.cause.startswith("User ") and " cannot remove packages from " in err.cause
    assert err.note and "pipwise venv" in err.note


def dist(direct_url: DirectUrl | None) -> InstalledDistribution:
    return installed_dist("Demo", "1.0", direct_url=direct_url, requested=True)


def test_editable_location_decodes_the_file_url() -> None:
    editable = DirectUrl("file:///home/me/my%20project", {"dir_info": {"editable": True}})
    assert editable_location(dist(editable)) == "/home/me/my project"
    assert freeze_line(dist(editable)) == "-e file:///home/me/my%20project"
    archive = DirectUrl("https://example.com/demo-1.0.tar.gz", {"archive_info": {}})
    assert editable_location(dist(archive)) is None
    assert freeze_line(dist(archive)) == "Demo @ https://example.com/demo-1.0.tar.gz"
    assert freeze_line(dist(None)) == "Demo==1.0"
