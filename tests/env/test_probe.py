"""The probe script, run for real inside the interpreters of this machine."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from packaging.markers import default_environment

from pipwise.env.interpreters import PROBE_PATH
from pipwise.env.probe import PROBE_VERSION
from tests.env import DEBIAN_PYTHON, make_venv, require_python


def run_probe(python: Path | str) -> dict[str, Any]:
    out = subprocess.run(
        [str(python), "-I", str(PROBE_PATH)], capture_output=True, text=True, check=True
    ).stdout
    facts: dict[str, Any] = json.loads(out)
    return facts


def test_probe_imports_only_the_standard_library() -> None:
    tree = ast.parse(PROBE_PATH.read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert imported <= sys.stdlib_module_names | {"__future__"}


@pytest.mark.parametrize("version", ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"])
def test_probe_reports_the_interpreter(version: str) -> None:
    python = require_python(version)
    facts = run_probe(python)
    major, minor = map(int, version.split("."))
    assert facts["probe_version"] == PROBE_VERSION
    assert facts["executable"] == str(python)
    assert facts["version_info"][:2] == [major, minor]
    assert facts["version_string"].startswith(f"{version}.")
    assert facts["implementation"] == "cpython"
    assert facts["is_venv"] is False
    assert facts["externally_managed"] is None
    prefix = str(python.parent.parent)
    assert facts["prefix"] == facts["base_prefix"] == prefix
    assert facts["scheme"]["purelib"] == f"{prefix}/lib/python{version}/site-packages"
    assert facts["scheme"]["scripts"] == f"{prefix}/bin"
    assert facts["user_scheme"]["purelib"].endswith(f"/.local/lib/python{version}/site-packages")
    assert facts["user_site_enabled"] is True
    assert facts["markers"]["python_version"] == version
    assert facts["markers"]["python_full_version"] == facts["version_string"]
    assert facts["py_version_nodot"] == f"{major}{minor}"
    assert facts["pointer_bits"] in (32, 64)
    assert facts["ext_suffix"] in facts["extension_suffixes"]
    assert f"{prefix}/lib/python{version}/site-packages" in facts["sys_path"]
    if sys.platform.startswith("linux"):
        assert facts["glibc_version"] or facts["musl_version"]


def test_probe_markers_match_packaging() -> None:
    # Run inside the interpreter running the tests, so packaging can compute the same thing.
    assert run_probe(sys.executable)["markers"] == default_environment()


def test_probe_inside_a_venv(tmp_path: Path) -> None:
    base = require_python("3.12")
    python = make_venv(tmp_path / "venv", base)
    facts = run_probe(python)
    assert facts["is_venv"] is True
    assert facts["executable"] == str(python)
    assert facts["prefix"] == str(tmp_path / "venv")
    assert facts["base_prefix"] == str(base.parent.parent)
    assert facts["scheme"]["purelib"] == str(tmp_path / "venv/lib/python3.12/site-packages")
    assert facts["user_site_enabled"] is False
    assert facts["site_writable"] is True


def test_probe_reports_debian_externally_managed_python(tmp_path: Path) -> None:
    if not (DEBIAN_PYTHON.is_file() and Path("/usr/lib/python3.11/EXTERNALLY-MANAGED").is_file()):
        pytest.skip(f"{DEBIAN_PYTHON} is absent or not externally managed")
    facts = run_probe(DEBIAN_PYTHON)
    assert facts["is_venv"] is False
    assert "apt install" in facts["externally_managed"]
    # Debian's default scheme is posix_local.
    assert facts["scheme"]["purelib"] == "/usr/local/lib/python3.11/dist-packages"
    # A venv of an externally managed Python is not externally managed.
    assert run_probe(make_venv(tmp_path / "venv", DEBIAN_PYTHON))["externally_managed"] is None
