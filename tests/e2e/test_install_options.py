"""`pipwise install` options end to end: --dry-run, --report, upgrade strategies,
--ignore-installed, the would-break check and --prerelease, with the real command."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Pipwise, Result
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec, build_wheel

#: This module's own index: chains to upgrade, a package others pin below a new version,
#: and a pre-release.
OPTION_WHEELS = [
    WheelSpec("app", "1.0", requires=["lib>=1.0", 'dep>=1; extra == "fast"'], extras=["fast"]),
    WheelSpec("app", "2.0", requires=["lib>=1.0", 'dep>=1; extra == "fast"'], extras=["fast"]),
    WheelSpec("lib", "1.0", requires=["dep>=1.0"]),
    WheelSpec("lib", "2.0", requires=["dep>=1.0"]),
    WheelSpec("dep", "1.0"),
    WheelSpec("dep", "2.0"),
    # web works only with engine < 2; tool 2.0 needs engine >= 2, tool 1.0 does not.
    WheelSpec("web", "1.0", requires=["Engine<2"]),
    WheelSpec("engine", "1.0"),
    WheelSpec("engine", "2.0"),
    WheelSpec("tool", "1.0", requires=["engine>=1"]),
    WheelSpec("tool", "2.0", requires=["engine>=2"]),
    WheelSpec("newtool", "1.0", requires=["engine>=2"]),
    WheelSpec("beta", "1.0"),
    WheelSpec("beta", "2.0b1"),
]


@pytest.fixture(scope="module")
def options_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    directory = tmp_path_factory.mktemp("option-dists")
    for spec in OPTION_WHEELS:
        build_wheel(spec, directory)
    with IndexServer(directory, metadata=True) as server:
        yield server


def install(pipwise: Pipwise, venv: Path, index: IndexServer, *args: str) -> Result:
    return pipwise("install", "--python", str(venv), "--index-url", index.index_url, *args)


def freeze(pipwise: Pipwise, venv: Path) -> set[str]:
    result = pipwise("freeze", "--python", str(venv))
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


def snapshot(venv: Path) -> dict[str, bytes | None]:
    """Every path in the venv: file contents, or None for a directory or symlink."""
    return {
        str(path.relative_to(venv)): path.read_bytes() if path.is_file() else None
        for path in sorted(venv.rglob("*"))
    }


def wheel_downloads(index: IndexServer, since: int) -> list[str]:
    return [path for path in index.requests[since:] if path.endswith(".whl")]


def test_dry_run_prints_the_plan_and_changes_nothing(
    pipwise: Pipwise, options_index: IndexServer, venv: Path
) -> None:
    setup = install(pipwise, venv, options_index, "app==1.0", "lib==1.0", "dep==1.0")
    assert setup.returncode == 0, setup.stderr
    before, requests = snapshot(venv), len(options_index.requests)

    result = install(pipwise, venv, options_index, "--dry-run", "-U", "app", "lib", "beta")

    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0].startswith("Using Python")
    assert result.stdout.splitlines() == [
        "Would install: beta==1.0",
        "Would upgrade: app 1.0 -> 2.0, lib 1.0 -> 2.0",
        "Would remove: app==1.0 lib==1.0",
        "Unchanged: 1 package already installed",
    ]
    assert snapshot(venv) == before
    assert wheel_downloads(options_index, requests) == []  # metadata only (PEP 658)
    assert any(p.endswith(".whl.metadata") for p in options_index.requests[requests:])

    as_json = install(pipwise, venv, options_index, "--dry-run", "--format", "json", "-U", "app")
    assert as_json.returncode == 0, as_json.stderr
    assert as_json.json() == {
        "dry_run": True,
        "installed": [],
        "upgraded": [{"name": "app", "from": "1.0", "to": "2.0"}],
        "removed": [{"name": "app", "version": "1.0"}],
        "reinstalled": [],
        "unchanged": [{"name": n, "version": "1.0"} for n in ("dep", "lib")],
    }
    nothing = install(pipwise, venv, options_index, "--dry-run", "app")
    assert nothing.stdout.splitlines() == [
        "Would change nothing",
        "Unchanged: 3 packages already installed",
    ]
    assert snapshot(venv) == before


def test_dry_run_report_on_stdout_is_the_plan_as_json(
    pipwise: Pipwise, options_index: IndexServer, venv: Path
) -> None:
    before, requests = snapshot(venv), len(options_index.requests)

    result = install(pipwise, venv, options_index, "--dry-run", "--report", "-", "app[fast]")

    assert result.returncode == 0, result.stderr
    report = result.json()  # stdout is the report alone
    assert isinstance(report, dict)
    assert (report["version"], report["environment"]["python_version"]) == ("1", "3.11")
    by_name = {item["metadata"]["name"]: item for item in report["install"]}
    assert sorted(by_name) == ["app", "dep", "lib"]
    assert "Would install: app==2.0 dep==2.0 lib==2.0" in result.stderr  # the plan, on stderr
    app = by_name["app"]
    assert (app["requested"], app["requested_extras"]) == (True, ["fast"])
    assert by_name["lib"]["requested"] is False and "requested_extras" not in by_name["lib"]
    assert app["metadata"]["version"] == "2.0"
    assert app["metadata"]["requires_dist"] == ["lib>=1.0", 'dep>=1; extra == "fast"']
    assert app["download_info"]["url"] == f"{options_index.url}/files/app-2.0-py3-none-any.whl"
    assert app["download_info"]["archive_info"]["hash"].startswith("sha256=")
    assert snapshot(venv) == before
    assert wheel_downloads(options_index, requests) == []


def test_report_file_lists_what_an_install_changed(
    pipwise: Pipwise, options_index: IndexServer, venv: Path, tmp_path: Path
) -> None:
    assert install(pipwise, venv, options_index, "lib==1.0").returncode == 0
    path = tmp_path / "report.json"

    result = install(pipwise, venv, options_index, "--report", str(path), "app")

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    report = json.loads(path.read_text(encoding="utf-8"))
    # lib 1.0 (and its dep) were kept: like pip, the report lists only what was installed.
    assert [item["metadata"]["name"] for item in report["install"]] == ["app"]
    assert " + app==2.0" in result.stderr
    assert freeze(pipwise, venv) == {"app==2.0", "lib==1.0", "dep==2.0"}

    missing = tmp_path / "no-such-dir" / "report.json"
    refused = install(pipwise, venv, options_index, "--report", str(missing), "beta")
    assert refused.returncode == 2
    assert "error[report-not-writable]" in refused.stderr
    assert "beta==1.0" not in freeze(pipwise, venv)


def test_upgrade_strategies(pipwise: Pipwise, options_index: IndexServer, venv: Path) -> None:
    setup = install(pipwise, venv, options_index, "app==1.0", "lib==1.0", "dep==1.0")
    assert setup.returncode == 0, setup.stderr

    needed = install(pipwise, venv, options_index, "-U", "app")
    assert needed.returncode == 0, needed.stderr
    assert freeze(pipwise, venv) == {"app==2.0", "lib==1.0", "dep==1.0"}

    eager = install(pipwise, venv, options_index, "-U", "--upgrade-strategy", "eager", "app")
    assert eager.returncode == 0, eager.stderr
    assert " ~ lib 1.0 -> 2.0" in eager.stderr and " ~ dep 1.0 -> 2.0" in eager.stderr
    assert freeze(pipwise, venv) == {"app==2.0", "lib==2.0", "dep==2.0"}


def test_ignore_installed_resolves_and_reinstalls_as_if_empty(
    pipwise: Pipwise, options_index: IndexServer, venv: Path
) -> None:
    setup = install(pipwise, venv, options_index, "app==1.0", "lib==1.0", "dep==1.0")
    assert setup.returncode == 0, setup.stderr
    assert "Nothing to do" in install(pipwise, venv, options_index, "app==1.0").stderr

    result = install(pipwise, venv, options_index, "-I", "app==1.0")

    assert result.returncode == 0, result.stderr
    assert " ~ app==1.0 (reinstalled)" in result.stderr
    assert " ~ lib 1.0 -> 2.0" in result.stderr
    assert freeze(pipwise, venv) == {"app==1.0", "lib==2.0", "dep==2.0"}
    site = venv / "lib" / "python3.11" / "site-packages"
    assert sorted(p.name for p in site.glob("*.dist-info")) == [
        "app-1.0.dist-info",
        "dep-2.0.dist-info",
        "lib-2.0.dist-info",
    ]


def test_an_install_that_would_break_a_package_stops_with_a_verified_fix(
    pipwise: Pipwise, options_index: IndexServer, venv: Path
) -> None:
    assert install(pipwise, venv, options_index, "web").returncode == 0
    before, requests = snapshot(venv), len(options_index.requests)

    result = install(pipwise, venv, options_index, "tool")

    assert result.returncode == 1
    assert "error[would-break-environment]" in result.stderr
    assert "web 1.0 requires Engine<2; the plan installs engine 2.0" in result.stderr
    assert snapshot(venv) == before
    assert wheel_downloads(options_index, requests) == []  # stopped before downloading
    fix = next(line for line in result.stderr.splitlines() if line.startswith("  fix: "))
    words = shlex.split(fix.removeprefix("  fix: "))
    assert words[:2] == ["pipwise", "install"] and words[-2:] == ["tool", "Engine<2"]

    fixed = pipwise(*words[1:])  # the fix, pasted
    assert fixed.returncode == 0, fixed.stderr
    assert freeze(pipwise, venv) == {"web==1.0", "engine==1.0", "tool==1.0"}
    assert "warning" not in fixed.stderr  # a consistent install says nothing more


def test_breakage_without_a_fix_and_as_json(
    pipwise: Pipwise, options_index: IndexServer, venv: Path
) -> None:
    assert install(pipwise, venv, options_index, "web").returncode == 0
    before = snapshot(venv)

    result = install(pipwise, venv, options_index, "--format", "json", "newtool")

    assert result.returncode == 1
    error = result.json()["error"]  # type: ignore[index]
    assert error["code"] == "would-break-environment"
    assert error["kind"] == "resolution"
    assert error["evidence"] == ["web 1.0 requires Engine<2; the plan installs engine 2.0"]
    assert error["fix"] is None  # adding Engine<2 makes newtool unsatisfiable
    assert "cannot be resolved" in error["note"]
    assert snapshot(venv) == before
    dry = install(pipwise, venv, options_index, "--dry-run", "newtool")
    assert dry.returncode == 1 and "error[would-break-environment]" in dry.stderr


def test_allow_breaking_installs_with_a_warning(
    pipwise: Pipwise, options_index: IndexServer, venv: Path
) -> None:
    assert install(pipwise, venv, options_index, "web").returncode == 0

    result = install(pipwise, venv, options_index, "--allow-breaking", "tool")

    assert result.returncode == 0, result.stderr
    assert (
        "warning: web 1.0 requires Engine<2; the plan installs engine 2.0 "
        "(installing anyway: --allow-breaking)"
    ) in result.stderr
    assert freeze(pipwise, venv) == {"web==1.0", "engine==2.0", "tool==2.0"}


def test_prerelease_policy(pipwise: Pipwise, options_index: IndexServer, venv: Path) -> None:
    default = install(pipwise, venv, options_index, "--dry-run", "beta")
    assert "Would install: beta==1.0" in default.stdout, default.stderr
    allowed = install(pipwise, venv, options_index, "--dry-run", "--prerelease", "allow", "beta")
    assert "Would install: beta==2.0b1" in allowed.stdout, allowed.stderr
    pre = install(pipwise, venv, options_index, "--dry-run", "--pre", "beta")
    assert "Would install: beta==2.0b1" in pre.stdout, pre.stderr
    bad = install(pipwise, venv, options_index, "--prerelease", "sometimes", "beta")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def test_resolution_budget_is_passed_to_the_solver(
    pipwise: Pipwise, options_index: IndexServer, venv: Path
) -> None:
    tight = install(pipwise, venv, options_index, "--dry-run", "--resolution-budget", "1", "app")
    assert tight.returncode == 1
    assert "error[resolution-too-deep]: gave up after 1 solver steps" in tight.stderr
    enough = install(pipwise, venv, options_index, "--dry-run", "--resolution-budget", "50", "app")
    assert enough.returncode == 0, enough.stderr
    zero = install(pipwise, venv, options_index, "--resolution-budget", "0", "app")
    assert zero.returncode == 2 and "not a positive number" in zero.stderr
