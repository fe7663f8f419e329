"""End-to-end fixtures: the real `pipwise` command, a real index on 127.0.0.1, real venvs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.index_server import Annotation, IndexServer
from tests.support.pythons import make_venv, require_python, venv_scheme
from tests.support.wheels import WheelSpec, build_sdist, build_wheel

__all__ = ["Pipwise", "Result", "require_python", "run_in", "site_packages"]


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> object:
        return json.loads(self.stdout)


class Pipwise:
    """Runs the installed `pipwise` console script with a clean, isolated environment."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        script = Path(sys.executable).with_name("pipwise")
        self.command = [str(script)] if script.exists() else [sys.executable, "-m", "pipwise"]
        self.environ = dict(environ)

    def __call__(self, *args: str, cwd: Path | None = None, stdin: str = "", **env: str) -> Result:
        """Run ``pipwise *args``; ``stdin`` is all it can read (then end of input)."""
        run = subprocess.run(
            [*self.command, *args],
            cwd=cwd,
            env={**self.environ, **env},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        return Result(run.returncode, run.stdout, run.stderr)


@pytest.fixture(scope="session")
def clean_environ(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """os.environ without pip/pipwise settings or an active venv; a private cache."""
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PIP_", "PIPWISE_")) and k != "VIRTUAL_ENV"
    }
    environ["PIP_CONFIG_FILE"] = os.devnull
    environ["PIPWISE_CACHE_DIR"] = str(tmp_path_factory.mktemp("pipwise-cache"))
    environ["NO_COLOR"] = "1"
    return environ


@pytest.fixture
def pipwise(clean_environ: dict[str, str]) -> Pipwise:
    return Pipwise(clean_environ)


#: The test index: names chosen to exercise dependencies, extras, markers, tags,
#: Requires-Python, pre-releases, yanked files and sdist-only releases.
WHEELS = [
    WheelSpec(
        "app",
        "1.0",
        requires=["lib>=1.0", 'fancy-dep>=1; extra == "fancy"', 'winonly; sys_platform == "win32"'],
        extras=["fancy"],
        console_scripts={"app-hello": "app:hello"},
        files={
            "app/__init__.py": "def hello():\n    print('hello from app')\n",
        },
    ),
    WheelSpec("lib", "1.0"),
    WheelSpec("lib", "2.0", requires_python=">=3.9"),
    WheelSpec("lib", "3.0b1"),
    WheelSpec("fancy-dep", "1.5"),
    WheelSpec("winonly", "1.0"),
    WheelSpec("onlypre", "1.0a1"),
    WheelSpec("yanky", "1.0"),
    WheelSpec("yanky", "2.0"),
    WheelSpec("native", "1.0", tag="cp311-cp311-manylinux_2_17_x86_64"),
    WheelSpec("native", "1.0", tag="cp38-cp38-manylinux_2_17_x86_64"),
    WheelSpec("windows-only", "1.0", tag="cp311-cp311-win_amd64"),
    WheelSpec("conflict-a", "1.0", requires=["shared==1.0"]),
    WheelSpec("conflict-b", "1.0", requires=["shared==2.0"]),
    WheelSpec("shared", "1.0"),
    WheelSpec("shared", "2.0"),
]


@pytest.fixture(scope="session")
def dists_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("dists")
    for spec in WHEELS:
        build_wheel(spec, directory)
    build_sdist("sdistonly", "1.0", directory)
    return directory


@pytest.fixture(scope="session")
def index(dists_dir: Path) -> Iterator[IndexServer]:
    annotations: dict[str, Annotation] = {
        "yanky-2.0-py3-none-any.whl": {"yanked": "broken build"},
        "lib-2.0-py3-none-any.whl": {"requires_python": ">=3.9"},
    }
    with IndexServer(dists_dir, annotations=annotations, metadata=True) as server:
        yield server


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    """A fresh Python 3.11 virtual environment without pip (skips without pyenv's 3.11)."""
    path = tmp_path / "env"
    make_venv(path, require_python("3.11"))
    return path


def site_packages(venv: Path) -> Path:
    """The venv's purelib directory, as its own interpreter reports it."""
    return Path(venv_scheme(venv / "bin" / "python").purelib)


def run_in(venv: Path, code: str) -> str:
    """Run Python code inside ``venv`` and return its stdout."""
    return subprocess.run(
        [str(venv / "bin" / "python"), "-c", code],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
