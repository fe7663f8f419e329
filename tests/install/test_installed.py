"""Reading installed distributions from a real venv's site-packages."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from packaging.version import Version

from pipwise.dists import DirectUrl
from pipwise.errors import DiagnosticError
from pipwise.install.installed import installed_distributions, read_distribution
from pipwise.install.wheel import install_wheel
from tests.install import Venv
from tests.support.wheels import WheelSpec, build_wheel


def site_paths(venv: Venv) -> list[str]:
    return [venv.scheme.purelib, venv.scheme.platlib]


def write_dist_info(site: Path, dirname: str, metadata: str) -> Path:
    dist_info = site / dirname
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(metadata)
    return dist_info


def test_reads_what_install_wrote(venv: Venv, tmp_path: Path) -> None:
    spec = WheelSpec(
        "Tool_Kit",
        "1.2",
        requires=["dep>=1", "extra-dep; extra == 'x'"],
        extras=["x"],
        console_scripts={"toolkit": "tool_kit:main"},
    )
    wheel = build_wheel(spec, tmp_path)
    source = DirectUrl(wheel.as_uri(), {"archive_info": {}})
    install_wheel(
        wheel, venv.scheme, interpreter=str(venv.python), requested=True, direct_url=source
    )
    install_wheel(
        build_wheel(WheelSpec("dep", "1.0"), tmp_path),
        venv.scheme,
        interpreter=str(venv.python),
        requested=False,
        installer_name="other-tool",
    )

    # purelib and platlib are one directory in a venv: each distribution appears once.
    dep, tool = installed_distributions(site_paths(venv))

    assert (tool.name, tool.canonical_name, tool.version) == (
        "Tool_Kit",
        "tool-kit",
        Version("1.2"),
    )
    assert tool.location == venv.site_packages
    assert tool.dist_info == venv.site_packages / "tool_kit-1.2.dist-info"
    assert (tool.requested, tool.installer, tool.direct_url) == (True, "pipwise", source)
    assert tool.requires == ("dep>=1", "extra-dep; extra == 'x'")
    assert tool.summary == "A test package"
    assert venv.site_packages / "tool_kit" / "__init__.py" in tool.files()
    assert venv.scripts / "toolkit" in tool.files(), "RECORD's ../../../bin path is normalized"
    assert (dep.requested, dep.installer, dep.direct_url) == (False, "other-tool", None)


def test_metadata_fields_invalid_versions_and_broken_entries(
    venv: Venv, caplog: pytest.LogCaptureFixture
) -> None:
    site = venv.site_packages
    write_dist_info(
        site,
        "odd-1.0.dist-info",
        "Metadata-Version: 2.1\nName: Odd\nVersion: not.a-version!\nHome-page: https://odd.example\n"
        "Author: A. Person\nAuthor-email: a@example.com\nLicense: BSD\n\n",
    )
    spdx = "Metadata-Version: 2.4\nName: spdx\nVersion: 1.0\nLicense-Expression: MIT\n\n"
    write_dist_info(site, "spdx-1.0.dist-info", spdx)
    (site / "nometadata-1.0.dist-info").mkdir()
    badurl = write_dist_info(site, "badurl-1.0.dist-info", "Name: badurl\nVersion: 1.0\n\n")
    (badurl / "direct_url.json").write_text("{not json")

    with caplog.at_level(logging.WARNING):
        bad, odd, mit = installed_distributions(site_paths(venv))

    assert "nometadata-1.0.dist-info" in caplog.text
    assert bad.direct_url is None
    assert (odd.version, odd.raw_version) == (None, "not.a-version!")
    assert (odd.home_page, odd.author, odd.author_email, odd.license) == (
        "https://odd.example",
        "A. Person",
        "a@example.com",
        "BSD",
    )
    assert (odd.requested, odd.installer, odd.requires) == (False, "", ())
    assert mit.license == "MIT"
    with pytest.raises(DiagnosticError) as caught:
        odd.files()
    assert (caught.value.code, caught.value.kind) == ("missing-record", "environment")
    assert caught.value.fix == f"rm -r {odd.dist_info}"
    assert odd.record_files() is None


def test_version_from_the_directory_name_and_missing_directories(venv: Venv) -> None:
    write_dist_info(venv.site_packages, "zope.interface-6.0.dist-info", "Name: zope.interface\n")

    (found,) = installed_distributions(site_paths(venv))

    assert (found.canonical_name, found.raw_version) == ("zope-interface", "6.0")
    assert installed_distributions([str(venv.prefix / "missing")]) == []


def test_undecodable_installer_and_unreadable_record(venv: Venv, tmp_path: Path) -> None:
    wheel = build_wheel(WheelSpec("mangled", "1.0"), tmp_path)
    dist_info = install_wheel(wheel, venv.scheme, interpreter=str(venv.python), requested=True)
    (dist_info / "INSTALLER").write_bytes(b"caf\xe9-tool\n")
    record = dist_info / "RECORD"
    record.write_bytes(record.read_bytes() + b"mangled/\xff\xfe.py,,\n")

    (dist,) = installed_distributions(site_paths(venv))

    assert dist.installer == "caf\N{REPLACEMENT CHARACTER}-tool"
    for broken in (dist.files, dist.record_files):
        with pytest.raises(DiagnosticError) as caught:
            broken()
        err = caught.value
        assert (err.code, err.kind, err.fix) == ("unreadable-record", "environment", None)
        assert str(record) in err.cause
        assert err.evidence[0].startswith(f"{record}: 'utf-8' codec can't decode")

    record.unlink()
    record.mkdir()  # unreadable as a file even for root, who ignores permissions
    with pytest.raises(DiagnosticError, match="unreadable-record") as caught:
        dist.files()
    assert "Is a directory" in caught.value.evidence[0]


def test_requirements_for_skips_what_cannot_be_evaluated(
    venv: Venv, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spec = WheelSpec(
        "sloppy",
        "1.0",
        requires=[
            'lib; python_version ~= "3"',
            'win; sys_platform == "win32"',
            "sane>=1",
            'fast; extra == "speed"',
            "!!",
        ],
    )
    install_wheel(
        build_wheel(spec, tmp_path), venv.scheme, interpreter=str(venv.python), requested=True
    )
    (dist,) = installed_distributions(site_paths(venv))
    markers = {"sys_platform": "linux", "python_version": "3.11", "python_full_version": "3.11.7"}

    with caplog.at_level(logging.DEBUG, logger="pipwise.install.installed"):
        applying = dist.requirements_for(markers)

    assert [str(req) for req in applying] == ["sane>=1"]
    assert "sloppy 1.0: skipping Requires-Dist 'lib; python_version ~= \"3\"'" in caplog.text
    assert "'!!'" in caplog.text


EGG_REQUIRES = """\
six>=1.0
direct @ https://example.com/direct-1.0.tar.gz

[:python_version < "3"]
futures

[speed]
fastlib>=2

[speed:sys_platform == "win32"]
winfast
"""


def test_egg_info_directories_and_files_are_read(venv: Venv) -> None:
    site = venv.site_packages
    egg = site / "Legacy_Pkg-2.5-py3.11.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text(
        "Metadata-Version: 1.1\nName: Legacy-Pkg\nVersion: 2.5\nSummary: old style\n"
    )
    (egg / "requires.txt").write_text(EGG_REQUIRES)
    (egg / "installed-files.txt").write_text("../legacy_pkg/__init__.py\nPKG-INFO\n")
    (site / "distutils_only-0.1-py3.11.egg-info").write_text(
        "Metadata-Version: 1.0\nName: distutils-only\nVersion: 0.1\n"
    )

    legacy, plain = sorted(
        installed_distributions(site_paths(venv)), key=lambda d: d.canonical_name, reverse=True
    )

    assert (legacy.name, legacy.raw_version, legacy.summary) == ("Legacy-Pkg", "2.5", "old style")
    assert legacy.is_egg_info and legacy.location == site
    assert legacy.requires == (
        "six>=1.0",
        "direct @ https://example.com/direct-1.0.tar.gz",
        'futures; python_version < "3"',
        'fastlib>=2; extra == "speed"',
        'winfast; (sys_platform == "win32") and extra == "speed"',
    )
    markers = {"python_version": "3.11", "sys_platform": "linux"}
    assert [r.name for r in legacy.requirements_for(markers)] == ["six", "direct"]
    assert legacy.files() == [site / "legacy_pkg" / "__init__.py", egg / "PKG-INFO"]

    assert (plain.name, plain.raw_version, plain.requires) == ("distutils-only", "0.1", ())
    assert plain.is_egg_info and plain.record_files() is None
    assert read_distribution(plain.dist_info) == plain
