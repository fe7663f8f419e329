"""Resolver scenarios with Python packaging semantics, one TOML file per case in
``packaging_scenarios/``, each run against real wheels on a real local index.

For every file the runner builds each ``[[package]]`` into a real wheel (or sdist), serves
them with `tests.support.index_server.IndexServer` on 127.0.0.1 (PEP 503 HTML or PEP 691
JSON, with or without PEP 658 metadata: the combination is picked from the file name so the
suite exercises all four), builds a `Target` for the scenario's Python and platform, and
calls `pipwise.resolve.resolver.resolve` in-process with a real `Finder`, `Preparer` and
`HttpFetcher` (cache in the test's tmp dir). Nothing touches the public index.

File names start with their group (``backtrack_``, ``extras_``, ``markers_``, ...; see
`GROUPS`). The format::

    description = "why this case exists (one line)"
    python = "3.11.7"              # target interpreter version (default 3.11.7)
    platforms = ["manylinux_2_17_aarch64", "linux_aarch64"]
                                   # platform tags of the target, most preferred first
                                   # (default: manylinux_2_35 ... manylinux1, linux; x86_64);
                                   # the full tag list comes from packaging.tags for `python`
    markers = { sys_platform = "darwin" }
                                   # marker-environment overrides; the default is
                                   # packaging.markers.default_environment() for CPython
                                   # `python` on linux x86_64
    request = ["app", "lib>=2"]    # requirement lines as on the command line
    requirements_file = '''...'''  # written to requirements.txt and passed like -r; sources
                                   # read "requirements.txt:LINE"
    constraints = ["lib<3"]        # written to constraints.txt and passed like -c
    options = { pre = false, upgrade = false, upgrade_strategy = "only-if-needed",
                prerelease = "pip", no_deps = false, ignore_installed = false,
                reinstall = false }  # ResolveOptions fields
    installed = { lib = "1.0" }    # versions already in the environment; their requires are
                                   # those of the [[package]] entry of that version, if any

    [[package]]
    name = "app"
    version = "1.0"
    requires = ["lib>=1"]          # Requires-Dist lines (markers and extras allowed)
    extras = ["fancy"]             # Provides-Extra
    requires_python = ">=3.8"      # in METADATA, and announced by the index
                                   # (data-requires-python / requires-python) unless
    index_requires_python = false  # ... says the index does not announce it
    tag = "py3-none-any"           # wheel tag (compressed tag sets allowed); "sdist" for an
                                   # sdist file. Several entries may share a version.
    yanked = "reason"              # PEP 592 (true for yanked without a reason)
    url = true                     # not on the index: only a file, for `name @ {url:NAME-VER}`

    [expect]
    pins = { app = "1.0", lib = "2.0" }  # every package of the resolution, exactly; OR
    error = "resolution-impossible"      # the DiagnosticError code
    explanation_contains = ["lib", "python>=3.12"]  # substrings of cause + evidence + note
    explanation_excludes = ["Term"]      # never shown ("root" and "∅" are always checked)
    change = { replace = { "1" = "lib" }, add_flags = ["--pre"] }
                                         # details["change"] of the diagnosis, exactly: the
                                         # request positions (command line, then the
                                         # requirements file, then constraints) whose
                                         # requirement is replaced, and flags to add. Without
                                         # it, the diagnosis must suggest no change.
    files = { app = "app-1.0-py3-none-any.whl" }  # the file chosen for a pin
    status_contains = ["nosuch"]         # substrings of the status lines resolve printed
                                         # (or of warnings logged under ``pipwise``)

``{url:NAME-VERSION}`` anywhere in requests, requirements files, constraints and requires is
replaced by the ``file://`` URL of that package's file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from .packaging_runner import FORBIDDEN, GROUPS, SCENARIOS, load, run

PATHS = sorted(SCENARIOS.glob("*.toml"))


@pytest.mark.parametrize("path", PATHS, ids=[path.stem for path in PATHS])
def test_packaging_scenario(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    expect = load(path)["expect"]
    outcome = run(path, tmp_path)
    where = f"[{outcome.form}]"

    if "pins" in expect:
        if outcome.error is not None:
            pytest.fail(
                f"{where} expected pins {expect['pins']}, got error[{outcome.error.code}]:\n"
                f"{outcome.shown()}"
            )
        assert outcome.resolution is not None
        got = {name: str(pin.version) for name, pin in outcome.resolution.pins.items()}
        wanted = {
            canonicalize_name(name): str(Version(version))
            for name, version in expect["pins"].items()
        }
        assert got == wanted, f"{where} status: {outcome.status}"
        for name, filename in expect.get("files", {}).items():
            pin = outcome.resolution.pins[canonicalize_name(name)]
            assert pin.candidate.link.filename == filename, where
        for phrase in expect.get("status_contains", []):
            assert any(phrase in line for line in outcome.status), (
                f"{where} no status line mentions {phrase!r}: {outcome.status}"
            )
        return

    if outcome.error is None:
        assert outcome.resolution is not None
        pins = {name: str(pin.version) for name, pin in outcome.resolution.pins.items()}
        pytest.fail(f"{where} expected error[{expect['error']}], resolved to {pins}")
    text = outcome.explanation()
    assert outcome.error.code == expect["error"], f"{where}\n{text}"
    for phrase in expect.get("explanation_contains", []):
        assert phrase in text, f"{where} {phrase!r} not in:\n{text}"
    # A change to the request is data for the command layer (which writes the command), so
    # it must not come or go unnoticed; ``{url:...}`` placeholders are the scenario's URLs.
    change = expect.get("change")
    if change is not None:
        replace = {k: outcome.served.substitute(v) for k, v in change["replace"].items()}
        change = {"replace": replace, "add_flags": change["add_flags"]}
    assert outcome.error.details.get("change") == change, f"{where}\n{text}"
    assert outcome.error.fix is None, f"{where} the resolver writes no commands"
    # The test's own tmp dir (in URLs and paths) is not the diagnosis' words.
    shown = outcome.shown().replace(str(tmp_path), "<tmp>")
    for phrase in (*FORBIDDEN, *expect.get("explanation_excludes", [])):
        assert phrase not in shown, f"{where} {phrase!r} shown in:\n{shown}"


def test_every_group_has_scenarios() -> None:
    assert len(PATHS) >= 120
    for path in PATHS:
        assert path.stem.split("_")[0] in GROUPS, path.name
    for group in GROUPS:
        assert any(path.stem.startswith(f"{group}_") for path in PATHS), group
