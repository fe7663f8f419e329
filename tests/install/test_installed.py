"""Reading installed distributions from a real venv's site-packages."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from packaging.version import Version

from pipwise.dists import DirectUrl
from pipwise.errors import DiagnosticError
from pipwise.install.installed import find_installed, installed_distributions
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


def test_find_installed_matches_any_spelling(venv: Venv) -> None:
    write_dist_info(venv.site_packages, "zope.interface-6.0.dist-info", "Name: zope.interface\n")

    found = find_installed(site_paths(venv), "Zope_Interface")

    assert found is not None and found.raw_version == "6.0", "version from the directory name"
    assert find_installed(site_paths(venv), "zope") is None
    assert installed_distributions([str(venv.prefix / "missing")]) == []
