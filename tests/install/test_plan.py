"""Planning a resolution against an environment, and carrying the plan out in a real venv."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from pipwise.dists import Candidate, DirectUrl, Link, Pin, Resolution
from pipwise.errors import DiagnosticError
from pipwise.install.installed import InstalledDistribution, installed_distributions
from pipwise.install.plan import plan_install
from pipwise.install.transaction import execute_plan
from pipwise.install.wheel import install_wheel
from tests.install import Venv, snapshot
from tests.support.installed import installed_dist
from tests.support.wheels import WheelSpec, build_wheel

GIT = DirectUrl("git+https://example.com/repo", {"vcs_info": {"vcs": "git", "commit_id": "a1"}})
GIT_NEWER = DirectUrl(
    "git+https://example.com/repo", {"vcs_info": {"vcs": "git", "commit_id": "b2"}}
)


def pin(
    name: str, version: str, *, direct_url: DirectUrl | None = None, requested: bool = False
) -> Pin:
    filename = f"{name}-{version}-py3-none-any.whl"
    link = Link(f"https://files.example/{filename}", filename, "https://index.example/simple/")
    normalized = canonicalize_name(name)
    candidate = Candidate(normalized, Version(version), link, "wheel", tag_priority=0)
    return Pin(normalized, Version(version), candidate, requested=requested, direct_url=direct_url)


def resolution(*pins: Pin) -> Resolution:
    return Resolution({p.name: p for p in pins})


def installed(
    name: str, version: str, direct_url: DirectUrl | None = None
) -> InstalledDistribution:
    return installed_dist(name, version, direct_url=direct_url)


def test_plan_sorts_pins_by_what_they_change() -> None:
    have = [
        installed("old", "1.0"),
        installed("newer", "3.0"),
        installed("same", "1.0"),
        installed("from-git", "1.0", GIT),
        installed("git-any", "1.0", GIT),
        installed("unrelated", "1.0"),
    ]
    wanted = resolution(
        pin("fresh", "1.0"),
        pin("old", "2.0"),
        pin("newer", "2.5"),
        pin("Same", "1.0"),
        pin("from-git", "1.0", direct_url=GIT_NEWER),
        pin("git-any", "1.0"),
    )

    plan = plan_install(wanted, have)

    assert [p.name for p in plan.install] == ["fresh"]
    assert [(d.raw_version, str(p.version)) for d, p in plan.upgrade] == [
        ("1.0", "2.0"),
        ("3.0", "2.5"),
    ]
    assert [d.name for d, _ in plan.reinstall] == ["from-git"]
    # An index pin is satisfied by an install of its version from anywhere.
    assert [d.name for d in plan.unchanged] == ["same", "git-any"]


def test_reinstall_flag_and_direct_url_equality() -> None:
    have = [installed("same", "1.0"), installed("from-git", "1.0", GIT)]
    wanted = resolution(pin("same", "1.0"), pin("from-git", "1.0", direct_url=GIT))

    assert [d.name for d in plan_install(wanted, have).unchanged] == ["same", "from-git"]
    forced = plan_install(wanted, have, reinstall=True)
    assert [d.name for d, _ in forced.reinstall] == ["same", "from-git"]
    assert forced.unchanged == ()
    from_url = plan_install(resolution(pin("same", "1.0", direct_url=GIT)), have)
    assert [d.name for d, _ in from_url.reinstall] == ["same"]


def wheel_for(spec: WheelSpec, directory: Path) -> tuple[NormalizedName, Path]:
    return canonicalize_name(spec.name), build_wheel(spec, directory)


def test_execute_plan_installs_upgrades_and_removes_stale_files(venv: Venv, tmp_path: Path) -> None:
    old = WheelSpec("foo", "1.0", files={"foo/__init__.py": "V = 1\n", "foo/old.py": ""})
    new = WheelSpec("foo", "2.0", files={"foo/__init__.py": "V = 2\n", "foo/new.py": ""})
    for spec in (old, WheelSpec("bar", "1.0")):
        wheel = build_wheel(spec, tmp_path / "old")
        install_wheel(wheel, venv.scheme, interpreter=str(venv.python), requested=True)
    wheels = dict([wheel_for(new, tmp_path / "new"), wheel_for(WheelSpec("baz", "1.0"), tmp_path)])
    site = [venv.scheme.purelib, venv.scheme.platlib]
    wanted = resolution(pin("foo", "2.0"), pin("bar", "1.0"), pin("baz", "1.0", requested=True))
    plan = plan_install(wanted, installed_distributions(site))

    execute_plan(plan, wheels, venv.scheme, str(venv.prefix), str(venv.python))

    package = venv.site_packages / "foo"
    assert sorted(p.name for p in package.iterdir()) == ["__init__.py", "new.py"]
    assert not (venv.site_packages / "foo-1.0.dist-info").exists()
    now = {d.name: d for d in installed_distributions(site)}
    assert {name: d.raw_version for name, d in now.items()} == {
        "bar": "1.0",
        "baz": "1.0",
        "foo": "2.0",
    }
    assert now["foo"].requested, "a user's request survives an upgrade"
    assert venv.run("-c", "import foo, baz; print(foo.V, baz.__version__)") == "2 1.0\n"
    assert not list(venv.prefix.glob(".pipwise-stash-*"))


def test_failed_upgrade_restores_the_old_version(venv: Venv, tmp_path: Path) -> None:
    old = WheelSpec("foo", "1.0", files={"foo/__init__.py": "V = 1\n", "foo/old.py": ""})
    wheel = build_wheel(old, tmp_path / "old")
    install_wheel(wheel, venv.scheme, interpreter=str(venv.python), requested=True)
    # The new version fails midway, after overwriting paths the old version had.
    files = {"foo/__init__.py": "V = 2\n", "foo/old.py": "changed", "foo-2.0.data/bogus/x": ""}
    name, broken = wheel_for(WheelSpec("foo", "2.0", files=files), tmp_path / "new")
    site = [venv.scheme.purelib, venv.scheme.platlib]
    plan = plan_install(resolution(pin("foo", "2.0")), installed_distributions(site))
    before = snapshot(venv.prefix)

    with pytest.raises(DiagnosticError, match="invalid-wheel"):
        execute_plan(plan, {name: broken}, venv.scheme, str(venv.prefix), str(venv.python))

    assert snapshot(venv.prefix) == before
    assert venv.run("-c", "import foo; print(foo.V)") == "1\n"


def test_execute_plan_checks_every_wheel_is_given_before_changing_anything(venv: Venv) -> None:
    plan = plan_install(resolution(pin("foo", "1.0"), pin("bar", "1.0")), [])

    with pytest.raises(ValueError, match="bar, foo"):
        execute_plan(plan, {}, venv.scheme, str(venv.prefix), str(venv.python))


def test_replacing_an_egg_info_install_is_refused_before_any_change(
    venv: Venv, tmp_path: Path
) -> None:
    egg = venv.site_packages / "legacy-1.0-py3.11.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: legacy\nVersion: 1.0\n")
    site = [venv.scheme.purelib, venv.scheme.platlib]
    # "fresh" comes first in the plan: it must not be installed either.
    wanted = resolution(pin("fresh", "1.0"), pin("legacy", "2.0"))
    plan = plan_install(wanted, installed_distributions(site))
    assert [old.name for old, _ in plan.upgrade] == ["legacy"]
    wheels = dict(
        wheel_for(spec, tmp_path)
        for spec in (WheelSpec("fresh", "1.0"), WheelSpec("legacy", "2.0"))
    )
    before = snapshot(venv.prefix)

    with pytest.raises(DiagnosticError, match="legacy-egg-info-uninstall"):
        execute_plan(plan, wheels, venv.scheme, str(venv.prefix), str(venv.python))

    assert snapshot(venv.prefix) == before
