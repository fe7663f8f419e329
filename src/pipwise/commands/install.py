"""`pipwise install`: requirements -> resolution -> plan -> wheels -> environment."""

from __future__ import annotations

import argparse
import json
import re
import shlex
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from packaging.requirements import Requirement
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)

from pipwise.errors import EXIT_OK, DiagnosticError
from pipwise.formats.requirements import (
    ParsedRequirements,
    RequestedRequirement,
    parse_file,
    parse_requirement,
)
from pipwise.install.installed import installed_distributions
from pipwise.install.plan import InstallPlan, execute_plan, plan_install
from pipwise.resolve.resolver import InstalledPreference, ResolveOptions, resolve
from pipwise.session import Session
from pipwise.target import Target
from pipwise.ui import UI

__all__ = ["collect_requirements", "refuse_externally_managed", "run"]


def refuse_externally_managed(target: Target, options: argparse.Namespace, verb: str) -> None:
    """PEP 668: never change a distro-managed interpreter unless explicitly told to."""
    if target.externally_managed is None or options.break_system_packages:
        return
    here = Path.cwd() / ".venv"
    raise DiagnosticError(
        "externally-managed-environment",
        "environment",
        f"{target.executable} is managed by the operating system (PEP 668); pipwise will not "
        f"{verb} packages into it",
        evidence=tuple(
            line for line in target.externally_managed.strip().splitlines() if line.strip()
        ),
        fix=f"pipwise venv {shlex.quote(str(here))} --python {shlex.quote(target.executable)} "
        f"&& pipwise {verb} --python {shlex.quote(str(here))} ...",
        note="to change the system interpreter anyway (risking the OS's own tools), "
        "add --break-system-packages",
    )


_PEP508_URL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def _path_requirement(text: str) -> RequestedRequirement | None:
    """``./dist/x-1.0-py3-none-any.whl`` or a wheel URL -> ``x @ file:///...`` (PEP 610)."""
    if _PEP508_URL.match(text):
        return None
    # As pip does: a bare name is a requirement even if a same-named directory exists here.
    looks_like_path = (
        text.endswith((".whl", ".tar.gz", ".zip"))
        or "/" in text
        or text.startswith("~")
        or (text.endswith((".txt", ".in")) and Path(text).is_file())
    )
    if _URL.match(text) and not text.startswith("file:"):
        filename = Path(urlsplit(text).path).name
        url = text
    elif looks_like_path:
        path = (
            Path(url2pathname(urlsplit(text).path))
            if text.startswith("file:")
            else Path(text).expanduser()
        )
        if not path.exists():
            raise DiagnosticError(
                "path-not-found",
                "usage",
                f"{text} does not exist",
                evidence=(f"looked for {path.absolute()}",),
                note="a requirement that looks like a path must name an existing file",
            )
        if path.is_dir():
            raise DiagnosticError(
                "source-build-unsupported",
                "build",
                f"{text} is a source tree; building from source is not supported yet",
                evidence=(f"{path.absolute()} is a directory",),
                fix=f"build a wheel first (python -m build --wheel {shlex.quote(text)}) "
                "and install the .whl file",
            )
        if path.suffix in (".txt", ".in"):
            raise DiagnosticError(
                "requirements-file-without-r",
                "usage",
                f"{text} is a file, not a requirement",
                evidence=(f"from the command line: {text}",),
                fix=f"pipwise install -r {shlex.quote(text)}",
                note="requirements files are read with -r",
            )
        filename = path.name
        url = path.absolute().as_uri()
    else:
        return None
    try:
        name = parse_wheel_filename(filename)[0]
    except InvalidWheelFilename:
        try:
            name = parse_sdist_filename(filename)[0]
        except InvalidSdistFilename:
            raise DiagnosticError(
                "invalid-archive-name",
                "usage",
                f"cannot tell the project name from {filename!r}",
                evidence=(f"from the command line: {text}",),
                note="wheel names follow name-version-python-abi-platform.whl (PEP 427)",
                fix=f"pipwise install 'NAME @ {url}'",
            ) from None
    return RequestedRequirement(Requirement(f"{name} @ {url}"), "the command line")


def collect_requirements(options: argparse.Namespace) -> ParsedRequirements:
    """Everything requested: command-line requirements, then ``-r`` and ``-c`` files."""
    parsed = ParsedRequirements()
    for text in options.requirements:
        parsed.requirements.append(_path_requirement(text) or parse_requirement(text))
    for file in options.requirement_files:
        parsed.merge(parse_file(Path(file)))
    for file in options.constraint_files:
        parsed.merge(parse_file(Path(file), constraint=True))
    if not any(not r.constraint for r in parsed.requirements):
        raise DiagnosticError(
            "nothing-to-install",
            "usage",
            "no requirements were given",
            fix="pipwise install NAME  (or: pipwise install -r requirements.txt)",
        )
    return parsed


def _index_urls(session: Session, parsed: ParsedRequirements) -> list[str]:
    settings = session.settings
    if settings.no_index or parsed.no_index:
        return []
    # A requirements file's -i replaces configured indexes, but not one given on the command line.
    primary = settings.index_url
    if parsed.index_url and settings.origins.get("index_url") != "--index-url":
        primary = parsed.index_url
    return list(dict.fromkeys([primary, *settings.extra_index_urls, *parsed.extra_index_urls]))


def run(session: Session, options: argparse.Namespace, ui: UI) -> int:
    """Resolve, plan and install; print what changed."""
    started = time.monotonic()
    parsed = collect_requirements(options)
    target = session.target(options.python, system=options.system)
    ui.status(f"Using {target.describe()}")
    refuse_externally_managed(target, options, "install")

    finder = session.finder(
        target, index_urls=_index_urls(session, parsed), find_links=parsed.find_links
    )
    scheme_dists = installed_distributions([target.scheme.purelib, target.scheme.platlib])
    resolution = resolve(
        parsed.requirements,
        finder=finder,
        preparer=session.preparer,
        target=target,
        installed={
            d.canonical_name: InstalledPreference(d.version, d.requires, d.direct_url)
            for d in scheme_dists
            if d.version is not None
        },
        options=ResolveOptions(
            upgrade=options.upgrade,
            pre=bool(options.pre or session.settings.pre or parsed.pre),
            no_deps=options.no_deps,
            reinstall=options.force_reinstall,
        ),
        status=ui.status,
    )
    plan = plan_install(resolution, scheme_dists, reinstall=options.force_reinstall)
    changes = [*plan.install, *(pin for _, pin in (*plan.upgrade, *plan.reinstall))]
    if changes:
        with ThreadPoolExecutor(max_workers=16) as pool:
            paths = dict(
                zip(
                    (pin.name for pin in changes),
                    pool.map(lambda pin: session.preparer.wheel(pin.candidate), changes),
                    strict=True,
                )
            )
        execute_plan(
            plan,
            paths,
            scheme=target.scheme,
            prefix=target.prefix,
            interpreter=target.executable,
        )
    _report(plan, ui, options, time.monotonic() - started, len(resolution.pins))
    return EXIT_OK


def _report(
    plan: InstallPlan, ui: UI, options: argparse.Namespace, seconds: float, total: int
) -> None:
    lines = [f" + {pin.name}=={pin.version}" for pin in plan.install]
    lines += [f" ~ {old.name} {old.version} -> {pin.version}" for old, pin in plan.upgrade]
    lines += [f" ~ {pin.name}=={pin.version} (reinstalled)" for _, pin in plan.reinstall]
    if options.format == "json":
        ui.result(
            json.dumps(
                {
                    "installed": [
                        {"name": p.name, "version": str(p.version)} for p in plan.install
                    ],
                    "upgraded": [
                        {"name": p.name, "from": str(o.version), "to": str(p.version)}
                        for o, p in plan.upgrade
                    ],
                    "reinstalled": [
                        {"name": p.name, "version": str(p.version)} for _, p in plan.reinstall
                    ],
                    "unchanged": [
                        {"name": d.name, "version": d.raw_version} for d in plan.unchanged
                    ],
                }
            )
        )
        return
    for line in sorted(lines):
        ui.status(line)
    changed = len(lines)
    if changed:
        ui.status(f"Installed {changed} package{'s' if changed != 1 else ''} in {seconds:.2f}s")
    else:
        ui.status(f"Nothing to do: all {total} requirement(s) are already satisfied")
