"""The would-break check against distributions really installed in a real venv."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.utils import canonicalize_name
from packaging.version import Version

from pipwise.dists import Candidate, Link, Pin, Resolution
from pipwise.env.interpreters import inspect_interpreter
from pipwise.install.check import Breakage, check_plan
from pipwise.install.installed import InstalledDistribution, installed_distributions
from pipwise.install.plan import plan_install
from pipwise.install.wheel import install_wheel
from pipwise.target import Target
from tests.install import Venv
from tests.support.wheels import WheelSpec, build_wheel

HERE = {key: str(value) for key, value in default_environment().items()}
LINUX = {**HERE, "sys_platform": "linux", "platform_system": "Linux"}
WINDOWS = {**HERE, "sys_platform": "win32", "platform_system": "Windows"}


def install(venv: Venv, tmp_path: Path, *specs: WheelSpec) -> list[InstalledDistribution]:
    """Install real wheels built from ``specs``; return what the venv now holds."""
    for spec in specs:
        wheel = build_wheel(spec, tmp_path / "wheels")
        install_wheel(wheel, venv.scheme, interpreter=str(venv.python), requested=True)
    return installed_distributions([venv.scheme.purelib, venv.scheme.platlib])


def pin(name: str, version: str) -> Pin:
    filename = f"{canonicalize_name(name).replace('-', '_')}-{version}-py3-none-any.whl"
    link = Link(f"https://files.example/{filename}", filename, "https://index.example/simple/")
    normalized = canonicalize_name(name)
    candidate = Candidate(normalized, Version(version), link, "wheel", tag_priority=0)
    return Pin(normalized, Version(version), candidate)


def check(
    installed: list[InstalledDistribution], *pins: Pin, markers: dict[str, str] | Target = LINUX
) -> list[Breakage]:
    plan = plan_install(Resolution({p.name: p for p in pins}), installed)
    return check_plan(installed, plan, markers)


def test_an_upgrade_that_breaks_a_staying_package_is_found(venv: Venv, tmp_path: Path) -> None:
    installed = install(
        venv,
        tmp_path,
        WheelSpec("Flask", "2.0", requires=["Werkzeug<3", "click>=8"]),
        WheelSpec("werkzeug", "2.3"),
        WheelSpec("click", "8.1"),
    )

    (broken,) = check(installed, pin("werkzeug", "3.1"), pin("click", "8.2"))

    assert broken.describe() == "Flask 2.0 requires Werkzeug<3; the plan installs werkzeug 3.1"
    assert broken.wanted == "Werkzeug<3"
    assert (broken.dist.name, broken.before, broken.after.version) == (
        "Flask",
        Version("2.3"),
        Version("3.1"),
    )
    assert check(installed, pin("werkzeug", "2.9")) == []


def test_names_are_compared_normalized(venv: Venv, tmp_path: Path) -> None:
    installed = install(
        venv,
        tmp_path,
        WheelSpec("consumer", "1.0", requires=["Zope.Interface_Core>=5,<6"]),
        WheelSpec("zope-interface-core", "5.4"),
    )

    (broken,) = check(installed, pin("ZOPE_interface.core", "6.0"))

    assert broken.after.name == "zope-interface-core"
    assert broken.wanted == "Zope.Interface_Core<6,>=5"


def test_markers_are_evaluated_for_the_target(venv: Venv, tmp_path: Path) -> None:
    installed = install(
        venv,
        tmp_path,
        WheelSpec("app", "1.0", requires=['winhelper<2; sys_platform == "win32"']),
        WheelSpec("winhelper", "1.0"),
    )

    assert check(installed, pin("winhelper", "2.0"), markers=LINUX) == []
    (broken,) = check(installed, pin("winhelper", "2.0"), markers=WINDOWS)
    assert broken.describe() == "app 1.0 requires winhelper<2; the plan installs winhelper 2.0"


def test_requirements_of_extras_nobody_asked_for_are_not_checked(
    venv: Venv, tmp_path: Path
) -> None:
    installed = install(
        venv,
        tmp_path,
        WheelSpec(
            "rich-app",
            "1.0",
            extras=["speed"],
            requires=['fastlib<2; extra == "speed"', "core[cli]<2"],
        ),
        WheelSpec("fastlib", "1.0"),
        WheelSpec("core", "1.0"),
    )

    breaks = check(installed, pin("fastlib", "2.0"), pin("core", "2.0"))

    # The extra's requirement does not apply; the requirement *with* extras does.
    assert [b.describe() for b in breaks] == [
        "rich-app 1.0 requires core[cli]<2; the plan installs core 2.0"
    ]


def test_pre_releases_satisfy_specifiers(venv: Venv, tmp_path: Path) -> None:
    installed = install(
        venv,
        tmp_path,
        WheelSpec("user", "1.0", requires=["dep<2"]),
        WheelSpec("dep", "1.0"),
    )

    assert check(installed, pin("dep", "1.9b1")) == []  # a pre-release below 2 is fine
    (broken,) = check(installed, pin("dep", "2.0rc1"))  # PEP 440: <2 excludes 2's pre-releases
    assert broken.after.version == Version("2.0rc1")


def test_replaced_packages_and_unmet_requirements_are_not_the_plans_doing(
    venv: Venv, tmp_path: Path
) -> None:
    installed = install(
        venv,
        tmp_path,
        WheelSpec("front", "1.0", requires=["back<2"]),
        WheelSpec("old", "1.0", requires=["back<1"]),  # already unmet before the plan
        WheelSpec("back", "1.5"),
    )

    # front itself is replaced: its old requirement no longer matters.
    assert [b.dist.name for b in check(installed, pin("front", "2.0"), pin("back", "2.0"))] == []
    # old was already broken; only front is broken by the plan.
    assert [b.dist.name for b in check(installed, pin("back", "2.0"))] == ["front"]


def test_a_reinstall_or_new_package_breaks_nothing(venv: Venv, tmp_path: Path) -> None:
    installed = install(
        venv,
        tmp_path,
        WheelSpec("front", "1.0", requires=["back==1.5", "nothere>=1"]),
        WheelSpec("back", "1.5"),
    )
    plan = plan_install(
        Resolution({p.name: p for p in (pin("back", "1.5"), pin("nothere", "0.5"))}),
        installed,
        reinstall=True,
    )

    assert [p.name for _, p in plan.reinstall] == ["back"]
    # nothere was missing before: installing a version front does not accept breaks nothing.
    assert check_plan(installed, plan, LINUX) == []


def test_unevaluable_markers_and_invalid_lines_are_skipped(
    venv: Venv, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    installed = install(
        venv,
        tmp_path,
        WheelSpec(
            "sloppy",
            "1.0",
            requires=['lib<2; python_version ~= "3"', "not a requirement!", "other<2"],
        ),
        WheelSpec("lib", "1.0"),
        WheelSpec("other", "1.0"),
    )
    target = inspect_interpreter(venv.python, cache_dir=tmp_path / "cache")

    with caplog.at_level(logging.DEBUG, logger="pipwise.install.installed"):
        for markers in (LINUX, target):
            (broken,) = check(installed, pin("lib", "2.0"), pin("other", "2.0"), markers=markers)
            assert broken.wanted == "other<2", "the sound requirement is still checked"

    assert 'python_version ~= "3"' in caplog.text
    assert "not a requirement!" in caplog.text
