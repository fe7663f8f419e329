"""Uninstalling from a real venv: exactly RECORD and its bytecode, or nothing at all."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipwise.errors import DiagnosticError
from pipwise.install.installed import InstalledDistribution, read_distribution
from pipwise.install.uninstall import Stash, uninstall
from pipwise.install.wheel import install_wheel
from tests.install import Venv, snapshot
from tests.support.wheels import WheelSpec, build_wheel


def install(venv: Venv, spec: WheelSpec, tmp_path: Path) -> InstalledDistribution:
    wheel = build_wheel(spec, tmp_path / "wheels")
    return read_distribution(
        install_wheel(wheel, venv.scheme, interpreter=str(venv.python), requested=True)
    )


def remove(venv: Venv, dist: InstalledDistribution) -> list[Path]:
    return uninstall(dist, prefix=str(venv.prefix), scheme=venv.scheme)


def test_removes_exactly_record_and_bytecode(venv: Venv, tmp_path: Path) -> None:
    files = {
        "ns/alpha/__init__.py": "def main():\n    print('alpha')\n",
        "ns/alpha/deep/mod.py": "X = 1\n",
    }
    other = {"ns/beta/__init__.py": "", "ns/stay.txt": "kept"}
    install(venv, WheelSpec("beta", "1.0", files=other), tmp_path)
    before = snapshot(venv.prefix)
    spec = WheelSpec("alpha", "1.0", files=files, console_scripts={"alpha": "ns.alpha:main"})
    alpha = install(venv, spec, tmp_path)
    # Bytecode for both, as an import would write (compileall ignores PYTHONDONTWRITEBYTECODE).
    venv.run("-m", "compileall", "-q", "-o", "0", "-o", "1", venv.site_packages / "ns")
    (venv.site_packages / "ns" / "alpha" / "user-data.txt").write_text("not ours")

    removed = remove(venv, alpha)

    site = venv.site_packages
    assert site / "ns" / "alpha" / "deep" / "mod.py" in removed
    assert venv.scripts / "alpha" in removed
    assert any(path.suffix == ".pyc" for path in removed)
    assert removed == sorted(removed)
    # Left: beta and its bytecode, the user's file (so its directory), nothing of alpha.
    pycache = site / "ns" / "beta" / "__pycache__"
    left = {site / "ns" / "alpha", site / "ns" / "alpha" / "user-data.txt", pycache}
    left |= set(pycache.iterdir())
    after = snapshot(venv.prefix)
    assert set(after) - set(before) == {str(path.relative_to(venv.prefix)) for path in left}
    assert not (site / "ns" / "alpha" / "deep").exists(), "emptied directories go"
    assert not list(venv.prefix.glob(".pipwise-stash-*"))


def test_record_path_outside_prefix_is_refused(venv: Venv, tmp_path: Path) -> None:
    dist = install(venv, WheelSpec("leaky", "1.0"), tmp_path)
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    escape = Path(*[".."] * len(venv.site_packages.relative_to(tmp_path).parts), "outside.txt")
    with (dist.dist_info / "RECORD").open("a") as record:
        record.write(f"{escape},,\n")
    before = snapshot(venv.prefix)

    with pytest.raises(DiagnosticError) as caught:
        remove(venv, dist)

    assert (caught.value.code, caught.value.kind) == (
        "uninstall-outside-environment",
        "environment",
    )
    assert caught.value.evidence == (str(outside),)
    assert snapshot(venv.prefix) == before
    assert outside.read_text() == "precious"


def test_symlinked_directory_leading_outside_is_refused(venv: Venv, tmp_path: Path) -> None:
    dist = install(venv, WheelSpec("linky", "1.0"), tmp_path)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "data.txt").write_text("precious")
    (venv.site_packages / "linked").symlink_to(tmp_path / "elsewhere")
    with (dist.dist_info / "RECORD").open("a") as record:
        record.write("linked/data.txt,,\n")

    with pytest.raises(DiagnosticError, match="uninstall-outside-environment"):
        remove(venv, dist)

    assert (tmp_path / "elsewhere" / "data.txt").read_text() == "precious"
    assert (venv.site_packages / "linky" / "__init__.py").exists()


def test_failure_while_stashing_restores_everything(
    venv: Venv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = WheelSpec("fragile", "1.0", console_scripts={"fragile": "fragile:main"})
    dist = install(venv, spec, tmp_path)
    before = snapshot(venv.prefix)
    moves: list[Path] = []
    real_move = shutil.move

    def flaky_move(src: Path, dst: Path) -> object:
        moves.append(src)
        if len(moves) == 3:
            raise PermissionError(f"cannot move {src}")
        return real_move(src, dst)

    monkeypatch.setattr(shutil, "move", flaky_move)

    with pytest.raises(DiagnosticError) as caught:
        remove(venv, dist)

    assert (caught.value.code, caught.value.kind) == ("uninstall-failed", "environment")
    assert len(moves) > 3, "the files moved before the failure were moved back"
    assert snapshot(venv.prefix) == before


def test_missing_record_is_a_diagnosis(venv: Venv, tmp_path: Path) -> None:
    dist = install(venv, WheelSpec("norecord", "1.0"), tmp_path)
    (dist.dist_info / "RECORD").unlink()
    before = snapshot(venv.prefix)

    with pytest.raises(DiagnosticError) as caught:
        remove(venv, dist)

    assert (caught.value.code, caught.value.kind) == ("missing-record", "environment")
    assert snapshot(venv.prefix) == before


def test_incomplete_rollback_names_where_each_file_went(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text("kept")
    (tmp_path / "top.txt").write_text("back")
    stash = Stash(tmp_path)
    stash.add(tmp_path / "pkg" / "mod.py")
    stash.add(tmp_path / "top.txt")
    (tmp_path / "pkg").rmdir()
    (tmp_path / "pkg").write_text("a file where the directory was")

    with pytest.raises(DiagnosticError) as caught:
        stash.rollback()

    err = caught.value
    assert (err.code, err.kind, err.fix) == ("rollback-incomplete", "environment", None)
    ((stashed, _, rest),) = (line.partition(" -> ") for line in err.evidence)
    assert rest.startswith(f"{tmp_path / 'pkg' / 'mod.py'} (")
    assert Path(stashed).read_text() == "kept", "the evidence says where the file is"
    assert Path(stashed).name == "0-mod.py"
    assert (tmp_path / "top.txt").read_text() == "back"
    assert err.note and str(Path(stashed).parent) in err.note


def test_egg_info_installs_are_refused(venv: Venv) -> None:
    site = venv.site_packages
    (site / "legacy").mkdir()
    (site / "legacy" / "__init__.py").write_text("")
    egg = site / "legacy-1.0-py3.11.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: legacy\nVersion: 1.0\n")
    (egg / "installed-files.txt").write_text("../legacy/__init__.py\nPKG-INFO\n")
    dist = read_distribution(egg)
    before = snapshot(venv.prefix)

    with pytest.raises(DiagnosticError) as caught:
        remove(venv, dist)

    err = caught.value
    assert (err.code, err.kind, err.fix) == ("legacy-egg-info-uninstall", "environment", None)
    assert err.note and "pip uninstall legacy" in err.note and "package manager" in err.note
    assert snapshot(venv.prefix) == before
