"""Uninstalling from a real venv: exactly RECORD and its bytecode, or nothing at all."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipwise.errors import DiagnosticError
from pipwise.install.installed import InstalledDistribution
from pipwise.install.uninstall import uninstall
from pipwise.install.wheel import install_wheel
from tests.install import Venv, snapshot
from tests.support.wheels import WheelSpec, build_wheel


def install(venv: Venv, spec: WheelSpec, tmp_path: Path) -> InstalledDistribution:
    wheel = build_wheel(spec, tmp_path / "wheels")
    return install_wheel(wheel, venv.scheme, interpreter=str(venv.python), requested=True)


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
