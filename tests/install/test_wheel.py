"""Installing wheels into a real venv: metadata files, scripts, hostile wheels, rollback."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from pipwise.dists import DirectUrl
from pipwise.errors import DiagnosticError
from pipwise.install.installed import read_distribution
from pipwise.install.wheel import install_wheel
from tests.install import Venv, rewrite_member, snapshot
from tests.support.wheels import WheelSpec, build_wheel

HELLO = {"hello/__init__.py": "def main():\n    print('hello from', __name__)\n"}


def install(venv: Venv, wheel: Path, *, requested: bool = True) -> None:
    install_wheel(wheel, venv.scheme, interpreter=str(venv.python), requested=requested)


def test_install_writes_metadata_and_working_scripts(venv: Venv, tmp_path: Path) -> None:
    files = {
        **HELLO,
        "hello-1.0.dist-info/entry_points.txt": "[console_scripts]\nhello = hello:main\n"
        "[gui_scripts]\nhello-gui = hello:main\n",
    }
    wheel = build_wheel(WheelSpec("Hello", "1.0", files=files), tmp_path / "wheels")
    direct_url = DirectUrl(wheel.as_uri(), {"archive_info": {"hashes": {"sha256": "abc"}}})

    dist_info = install_wheel(
        wheel, venv.scheme, interpreter=str(venv.python), requested=True, direct_url=direct_url
    )

    assert dist_info == venv.site_packages / "hello-1.0.dist-info"
    dist = read_distribution(dist_info)
    assert (dist.name, dist.raw_version, dist.dist_info) == ("Hello", "1.0", dist_info)
    assert (dist_info / "INSTALLER").read_text() == "pipwise\n"
    assert (dist_info / "REQUESTED").read_bytes() == b""
    assert json.loads((dist_info / "direct_url.json").read_text()) == {
        "url": wheel.as_uri(),
        "archive_info": {"hashes": {"sha256": "abc"}},
    }
    record = (dist_info / "RECORD").read_text()
    for listed in ("hello/__init__.py", "INSTALLER", "REQUESTED", "direct_url.json", "bin/hello"):
        assert listed in record
    assert not list(venv.prefix.rglob("*.pyc")), "no bytecode is compiled"
    assert not list(venv.prefix.glob(".pipwise-stash-*"))

    script = venv.scripts / "hello"
    assert script.read_text().splitlines()[0] == f"#!{venv.python}"
    for name in ("hello", "hello-gui"):
        ran = subprocess.run(
            [venv.scripts / name], check=True, capture_output=True, text=True, timeout=60
        )
        assert ran.stdout == "hello from hello\n"
    assert venv.run("-c", "import hello; print(hello.__file__)").strip() == str(
        venv.site_packages / "hello" / "__init__.py"
    )


def test_dependency_install_writes_neither_requested_nor_direct_url(
    venv: Venv, tmp_path: Path
) -> None:
    install(venv, build_wheel(WheelSpec("dep", "2.0"), tmp_path), requested=False)

    dist_info = venv.site_packages / "dep-2.0.dist-info"
    assert (dist_info / "INSTALLER").exists()
    assert not (dist_info / "REQUESTED").exists()
    assert not (dist_info / "direct_url.json").exists()
    assert venv.run("-c", "import dep; print(dep.__version__)") == "2.0\n"


@pytest.mark.parametrize("member", ["../evil.py", "evil/../../evil.py", "ABSOLUTE", "C:/evil.py"])
def test_hostile_paths_are_refused_before_writing(venv: Venv, tmp_path: Path, member: str) -> None:
    outside = tmp_path / "outside.py"
    if member == "ABSOLUTE":
        member = str(outside)
    wheel = build_wheel(
        WheelSpec("evil", "1.0", files={**HELLO, member: "print('pwned')\n"}), tmp_path / "w"
    )
    before = snapshot(venv.prefix)

    with pytest.raises(DiagnosticError) as caught:
        install(venv, wheel)

    assert (caught.value.code, caught.value.kind) == ("unsafe-wheel", "integrity")
    assert member in caught.value.evidence
    assert snapshot(venv.prefix) == before
    assert not outside.exists()


def test_hostile_script_name_is_refused(venv: Venv, tmp_path: Path) -> None:
    spec = WheelSpec("evil", "1.0", files=HELLO, console_scripts={"../../evil": "hello:main"})
    before = snapshot(venv.prefix)

    with pytest.raises(DiagnosticError, match="unsafe-wheel"):
        install(venv, build_wheel(spec, tmp_path))

    assert snapshot(venv.prefix) == before


def test_record_hash_mismatch_is_refused(venv: Venv, tmp_path: Path) -> None:
    wheel = build_wheel(WheelSpec("tampered", "1.0"), tmp_path)
    rewrite_member(wheel, "tampered/__init__.py", "print('not what RECORD says')\n")
    before = snapshot(venv.prefix)

    with pytest.raises(DiagnosticError) as caught:
        install(venv, wheel)

    assert (caught.value.code, caught.value.kind) == ("invalid-wheel", "integrity")
    assert any("tampered/__init__.py" in line for line in caught.value.evidence)
    assert caught.value.fix is None, "rebuilding or downloading again is advice, not a command"
    assert caught.value.note and "download it again" in caught.value.note
    assert snapshot(venv.prefix) == before


def test_not_a_zip_is_an_invalid_wheel(venv: Venv, tmp_path: Path) -> None:
    wheel = tmp_path / "broken-1.0-py3-none-any.whl"
    wheel.write_text("not a zip")

    with pytest.raises(DiagnosticError, match="invalid-wheel"):
        install(venv, wheel)


def test_failure_midway_removes_written_files_and_restores_overwritten(
    venv: Venv, tmp_path: Path
) -> None:
    # Files are written in archive order: the module and script go in before the
    # bogus .data directory makes installer fail.
    files = {**HELLO, "shared.py": "NEW = 1\n", "midway-1.0.data/bogus/file": "x"}
    spec = WheelSpec("midway", "1.0", files=files, console_scripts={"hello": "hello:main"})
    wheel = build_wheel(spec, tmp_path)
    (venv.site_packages / "shared.py").write_text("OLD = 1\n")
    before = snapshot(venv.prefix)

    with pytest.raises(DiagnosticError) as caught:
        install(venv, wheel)

    assert caught.value.code == "invalid-wheel"
    assert any("bogus" in line for line in caught.value.evidence)
    assert snapshot(venv.prefix) == before


def test_existing_files_are_overwritten(venv: Venv, tmp_path: Path) -> None:
    (venv.site_packages / "hello").mkdir()
    (venv.site_packages / "hello" / "__init__.py").write_text("stale = True\n")

    install(venv, build_wheel(WheelSpec("hello", "1.0", files=HELLO), tmp_path))

    assert (venv.site_packages / "hello" / "__init__.py").read_text() == HELLO["hello/__init__.py"]
    assert not list(venv.prefix.glob(".pipwise-stash-*"))
