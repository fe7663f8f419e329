"""`pipwise install`: requirements -> resolution -> plan -> wheels -> environment."""

from __future__ import annotations

import argparse
import json
import re
import shlex
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from pipwise.commands._environment import refuse_externally_managed, require_writable
from pipwise.dists import Pin, Resolution
from pipwise.errors import EXIT_OK, DiagnosticError
from pipwise.formats.requirements import (
    ParsedRequirements,
    RequestedRequirement,
    parse_file,
    parse_requirement,
)
from pipwise.install.check import Breakage, check_plan
from pipwise.install.installed import InstalledDistribution, installed_distributions
from pipwise.install.plan import InstallPlan, plan_install
from pipwise.net.http import url_to_path
from pipwise.resolve.resolver import MAX_STEPS, InstalledPreference, ResolveOptions, resolve
from pipwise.session import Session
from pipwise.ui import UI

if TYPE_CHECKING:
    from pipwise.install.report import InstallationReport
    from pipwise.target import Target

__all__ = ["collect_requirements", "run"]


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
        path = url_to_path(text) if text.startswith("file:") else Path(text).expanduser()
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
        try:
            parsed.requirements.append(_path_requirement(text) or parse_requirement(text))
        except DiagnosticError as error:
            corrected = error.details.get("corrected")
            if isinstance(corrected, str):  # the fix repeats the whole command, corrected
                error.fix = _command_line(options, replace={text: corrected})
            raise
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


def _render_change(
    error: DiagnosticError, options: argparse.Namespace, parsed: ParsedRequirements
) -> None:
    """Turn a change the resolver has checked (``details["change"]``) into the user's own
    command with that change made; a change to a requirements-file line becomes a note,
    since editing a file is not a command to paste."""
    change = error.details.get("change")
    if not isinstance(change, dict):
        return
    flags = [str(flag) for flag in change.get("add_flags", [])]
    on_command_line: dict[str, str] = {}
    edits = []
    for index, text in dict(change.get("replace", {})).items():
        requested = parsed.requirements[int(index)]
        # Command-line requirements come first in `parsed`, in the order they were typed.
        if requested.source == "the command line" and int(index) < len(options.requirements):
            on_command_line[options.requirements[int(index)]] = str(text)
        else:
            edits.append(f"change {requested.source} to {text!r}")
    if edits:
        extra = f" and add {' '.join(flags)}" if flags else ""
        error.note = "; ".join(filter(None, [error.note, "; ".join(edits) + extra]))
        return
    error.fix = _command_line(options, replace=on_command_line, flags=flags)


def _index_urls(session: Session, parsed: ParsedRequirements) -> list[str]:
    settings = session.settings
    if settings.no_index or parsed.no_index:
        return []
    # A requirements file's -i replaces configured indexes, but not one given on the command line.
    primary = settings.index_url
    if parsed.index_url and settings.origins.get("index_url") != "--index-url":
        primary = parsed.index_url
    return list(dict.fromkeys([primary, *settings.extra_index_urls, *parsed.extra_index_urls]))


def _report_destination(options: argparse.Namespace) -> Path | None:
    """``--report FILE``: refuse a file that cannot be written before anything is resolved."""
    if options.report in (None, "-"):
        return None
    path = Path(options.report)
    if path.is_dir() or not path.parent.is_dir():
        problem = "is a directory" if path.is_dir() else f"{path.parent} is not a directory"
        raise DiagnosticError(
            "report-not-writable",
            "usage",
            f"cannot write the installation report to {options.report}",
            evidence=(f"{path.absolute()}: {problem}",),
            note="--report - writes the report to standard output",
        )
    return path


def run(session: Session, options: argparse.Namespace, ui: UI) -> int:
    """Resolve, plan, check and install (or, with ``--dry-run``, say what would change)."""
    started = time.monotonic()
    report_path = _report_destination(options)
    # With --report -, stdout holds only the report; every other output goes to stderr.
    output = ui.status if options.report == "-" else ui.result
    parsed = collect_requirements(options)
    target = session.target(options.python, system=options.system)
    ui.status(f"Using {target.describe()}")
    if session.settings.trusted_hosts:
        origin = session.settings.origins.get("trusted_hosts", "--trusted-host")
        ui.warn(
            "TLS certificates are not verified for "
            + ", ".join(session.settings.trusted_hosts)
            + f" (trusted-host, from {origin})"
        )
    if not options.dry_run:
        refuse_externally_managed(
            target,
            allowed=options.break_system_packages,
            cwd=session.cwd,
            install_args=_command_words(options, python=None),
        )
    elif target.externally_managed is not None and not options.break_system_packages:
        ui.warn(
            f"{target.executable} is externally managed (PEP 668): without --dry-run this "
            "install would be refused unless --break-system-packages is given"
        )

    if not options.dry_run:
        require_writable(target, cwd=session.cwd)
    finder = session.finder(
        target, index_urls=_index_urls(session, parsed), find_links=parsed.find_links
    )
    scheme_dists = installed_distributions([target.scheme.purelib, target.scheme.platlib])
    resolve_options = ResolveOptions(
        upgrade=options.upgrade,
        upgrade_strategy=options.upgrade_strategy,
        pre=bool(options.pre or session.settings.pre or parsed.pre),
        prerelease=options.prerelease,
        no_deps=options.no_deps,
        reinstall=options.force_reinstall,
        ignore_installed=options.ignore_installed,
    )
    installed = {
        d.canonical_name: InstalledPreference(d.version, d.requires, d.direct_url)
        for d in scheme_dists
        if d.version is not None
    }

    def plan_for(
        requested: Sequence[RequestedRequirement], status: Callable[[str], None]
    ) -> tuple[Resolution, InstallPlan]:
        resolution = resolve(
            requested,
            finder=finder,
            preparer=session.preparer,
            target=target,
            installed=installed,
            options=resolve_options,
            status=status,
            budget=options.resolution_budget or MAX_STEPS,
        )
        # --ignore-installed: what is installed does not count, so every pin is (re)installed.
        reinstall = options.force_reinstall or options.ignore_installed
        return resolution, plan_install(resolution, scheme_dists, reinstall=reinstall)

    try:
        resolution, plan = plan_for(parsed.requirements, ui.status)
    except DiagnosticError as error:
        _render_change(error, options, parsed)
        raise
    broken = check_plan(scheme_dists, plan, target)
    if broken and not options.allow_breaking:
        raise _would_break(broken, options, parsed, scheme_dists, target, plan_for)
    for breakage in broken:
        ui.warn(f"{breakage.describe()} (installing anyway: --allow-breaking)")

    replaced = [old for old, _ in (*plan.upgrade, *plan.reinstall)]
    if replaced:
        from pipwise.install.uninstall import refuse_unremovable  # tempfile, shutil: only here

        for old in replaced:
            refuse_unremovable(old)  # before anything is downloaded
    changes = [*plan.install, *(pin for _, pin in (*plan.upgrade, *plan.reinstall))]
    wheels: dict[NormalizedName, Path] = {}
    if changes and not options.dry_run:
        with ThreadPoolExecutor(max_workers=16) as pool:
            wheels = dict(
                zip(
                    (pin.name for pin in changes),
                    pool.map(lambda pin: session.preparer.wheel(pin.candidate), changes),
                    strict=True,
                )
            )
    if options.report is not None:
        changed = {pin.name for pin in changes}
        in_order = [pin for pin in resolution.pins.values() if pin.name in changed]
        report = _installation_report(session, in_order, parsed, target.markers, wheels)
        from pipwise.install.report import dumps_report, write_report

        if report_path is None:
            ui.result(dumps_report(report))
        else:
            write_report(report, report_path)
    if options.dry_run:
        _summarize_dry_run(plan, output, options.format == "json")
        return EXIT_OK
    if changes:
        from pipwise.install.transaction import execute_plan  # not needed to resolve or plan

        execute_plan(
            plan,
            wheels,
            scheme=target.scheme,
            prefix=target.prefix,
            interpreter=target.executable,
        )
    _summarize(plan, ui, output, options, time.monotonic() - started, len(resolution.pins))
    return EXIT_OK


def _installation_report(
    session: Session,
    changes: Sequence[Pin],
    parsed: ParsedRequirements,
    markers: Mapping[str, str],
    wheels: Mapping[NormalizedName, Path],
) -> InstallationReport:
    """pip's report of ``changes``, with the metadata the resolver already read."""
    from pipwise.install.report import installation_report, report_item  # only with --report

    extras: dict[NormalizedName, set[str]] = {}
    for requested in parsed.requirements:
        if not requested.constraint:
            name = canonicalize_name(requested.requirement.name)
            extras.setdefault(name, set()).update(
                canonicalize_name(e) for e in requested.requirement.extras
            )
    with ThreadPoolExecutor(max_workers=16) as pool:
        metadata = list(pool.map(lambda pin: session.preparer.metadata(pin.candidate), changes))
    items = [
        report_item(
            pin, meta, requested_extras=extras.get(pin.name, ()), wheel=wheels.get(pin.name)
        )
        for pin, meta in zip(changes, metadata, strict=True)
    ]
    return installation_report(items, markers)


#: How many times a fix for breakage is re-resolved with the constraints it needs so far.
_FIX_ROUNDS = 3


def _would_break(
    broken: Sequence[Breakage],
    options: argparse.Namespace,
    parsed: ParsedRequirements,
    installed: Sequence[InstalledDistribution],
    target: Target,
    plan_for: Callable[
        [Sequence[RequestedRequirement], Callable[[str], None]], tuple[Resolution, InstallPlan]
    ],
) -> DiagnosticError:
    """The diagnosis for a plan that breaks installed packages, with a fix only when verified:
    the request re-resolved with the requirements it breaks added must succeed and break
    nothing."""
    names = sorted({b.dist.name for b in broken})
    added: dict[NormalizedName, tuple[str, SpecifierSet]] = {}
    failure: str | None = None
    pending = list(broken)
    fixed = False
    for _ in range(_FIX_ROUNDS):
        for breakage in pending:
            req = breakage.requirement
            name = canonicalize_name(req.name)
            _, spec = added.get(name, (req.name, SpecifierSet()))
            added[name] = (req.name, spec & req.specifier)
        extra = [_added_requirement(label, spec) for label, spec in added.values()]
        try:
            _, plan = plan_for([*parsed.requirements, *extra], lambda _: None)
        except DiagnosticError as error:
            failure = error.cause
            break
        pending = check_plan(installed, plan, target)
        if not pending:
            fixed = True
            break
    wanted = [f"{label}{spec}" for label, spec in added.values()]
    shown = " ".join(shlex.quote(w) for w in wanted)
    if fixed:
        fix: str | None = _command_line(options, added=wanted)
        note = (
            f"nothing was changed; with {shown} added, the request resolves and keeps "
            f"{', '.join(names)} working. To install anyway, add --allow-breaking"
        )
    else:
        fix = None
        why = f"it cannot be resolved ({failure})" if failure else "it still breaks packages"
        note = (
            f"nothing was changed; with {shown} added, {why}. Upgrade or remove "
            f"{', '.join(names)} first, or add --allow-breaking to install anyway"
        )
    return DiagnosticError(
        "would-break-environment",
        "resolution",
        f"installing this would break {len(names)} installed "
        f"package{'s' if len(names) != 1 else ''}: {', '.join(names)}",
        evidence=tuple(b.describe() for b in broken),
        fix=fix,
        note=note,
        details={
            "broken": [
                {
                    "name": b.dist.name,
                    "version": b.dist.raw_version,
                    "requires": b.wanted,
                    "installed": str(b.before),
                    "planned": str(b.after.version),
                }
                for b in broken
            ]
        },
    )


def _added_requirement(name: str, spec: SpecifierSet) -> RequestedRequirement:
    return RequestedRequirement(Requirement(f"{name}{spec}"), "the command line")


_KEEP = object()


def _command_words(
    options: argparse.Namespace,
    *,
    python: object = _KEEP,
    replace: Mapping[str, str] | None = None,
    added: Sequence[str] = (),
    flags: Sequence[str] = (),
) -> list[str]:
    """The words after ``pipwise install`` as given: every option that decides what is
    resolved and whether it is installed (not how the outcome is shown), with ``--python``
    overridden (None drops it, with ``--system``), requirements typed on the command line
    replaced by ``replace``, ``added`` requirements and extra ``flags``."""
    target = options.python if python is _KEEP else python
    valued = [
        ("--python", target),
        ("--index-url", options.index_url),
        *(("--extra-index-url", url) for url in options.extra_index_url or ()),
        *(("--find-links", url) for url in options.find_links or ()),
        ("--index-strategy", options.index_strategy),
        ("--cert", options.cert),
        ("--client-cert", options.client_cert),
        *(("--trusted-host", host) for host in options.trusted_host or ()),
        ("--proxy", options.proxy),
        ("--resolution-budget", options.resolution_budget),
    ]
    words = [word for flag, value in valued if value for word in (flag, str(value))]
    switches = {
        "--system": options.system and python is _KEEP,
        "--break-system-packages": options.break_system_packages,
        "--no-index": options.no_index,
        "--upgrade": options.upgrade,
        "--pre": options.pre or "--pre" in flags,
        "--no-deps": options.no_deps,
        "--force-reinstall": options.force_reinstall,
        "--ignore-installed": options.ignore_installed,
        "--dry-run": options.dry_run,
    }
    words += [flag for flag, on in switches.items() if on]
    words += [flag for flag in flags if flag not in switches]
    if options.upgrade_strategy != "only-if-needed":
        words += ["--upgrade-strategy", options.upgrade_strategy]
    if options.prerelease != "pip":
        words += ["--prerelease", options.prerelease]
    for file in options.requirement_files:
        words += ["-r", file]
    for file in options.constraint_files:
        words += ["-c", file]
    replace = replace or {}
    words += [replace.get(text, text) for text in options.requirements]
    return [*words, *added]


def _command_line(options: argparse.Namespace, **changes: Any) -> str:
    """`_command_words` as one pasteable ``pipwise install`` command."""
    words = ["pipwise", "install", *_command_words(options, **changes)]
    return " ".join(shlex.quote(word) for word in words)


def _pins(pins: Sequence[Pin]) -> list[dict[str, str]]:
    return [{"name": p.name, "version": str(p.version)} for p in pins]


def _plan_json(plan: InstallPlan, *, dry_run: bool) -> str:
    return json.dumps(
        {
            "dry_run": dry_run,
            "installed": _pins(plan.install),
            "upgraded": [
                {"name": p.name, "from": str(o.version), "to": str(p.version)}
                for o, p in plan.upgrade
            ],
            "removed": [{"name": o.name, "version": o.raw_version} for o, _ in plan.upgrade],
            "reinstalled": _pins([p for _, p in plan.reinstall]),
            "unchanged": [{"name": d.name, "version": d.raw_version} for d in plan.unchanged],
        }
    )


def _summarize_dry_run(plan: InstallPlan, output: Callable[[str], None], as_json: bool) -> None:
    """pip's ``Would install ...`` line, and the same for upgrades, removals and reinstalls."""
    if as_json:
        output(_plan_json(plan, dry_run=True))
        return
    upgrades = sorted(plan.upgrade, key=lambda change: change[1].name)
    lines = {
        "Would install": " ".join(sorted(f"{p.name}=={p.version}" for p in plan.install)),
        "Would upgrade": ", ".join(f"{p.name} {o.version} -> {p.version}" for o, p in upgrades),
        "Would remove": " ".join(f"{o.name}=={o.raw_version}" for o, _ in upgrades),
        "Would reinstall": " ".join(sorted(f"{p.name}=={p.version}" for _, p in plan.reinstall)),
    }
    for label, items in lines.items():
        if items:
            output(f"{label}: {items}")
    if not any(lines.values()):
        output("Would change nothing")
    if count := len(plan.unchanged):
        output(f"Unchanged: {count} package{'s' if count != 1 else ''} already installed")


def _summarize(
    plan: InstallPlan,
    ui: UI,
    output: Callable[[str], None],
    options: argparse.Namespace,
    seconds: float,
    total: int,
) -> None:
    lines = [f" + {pin.name}=={pin.version}" for pin in plan.install]
    lines += [f" ~ {old.name} {old.version} -> {pin.version}" for old, pin in plan.upgrade]
    lines += [f" ~ {pin.name}=={pin.version} (reinstalled)" for _, pin in plan.reinstall]
    if options.format == "json":
        output(_plan_json(plan, dry_run=False))
        return
    for line in sorted(lines):
        ui.status(line)
    changed = len(lines)
    if changed:
        ui.status(f"Installed {changed} package{'s' if changed != 1 else ''} in {seconds:.2f}s")
    else:
        ui.status(f"Nothing to do: all {total} requirement(s) are already satisfied")
