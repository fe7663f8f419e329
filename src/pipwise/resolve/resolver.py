"""Resolve a request: requirements in, a `Resolution` (or a diagnosis of why not) out."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from pipwise.dists import Candidate, DirectUrl, Link, Pin, Resolution
from pipwise.errors import DiagnosticError
from pipwise.formats.requirements import RequestedRequirement
from pipwise.index.collector import link_filename, split_hash_fragment
from pipwise.index.evaluator import evaluate
from pipwise.index.finder import Finder
from pipwise.prepare import Preparer
from pipwise.resolve.explain import check_requested, diagnose_failure, request_change
from pipwise.resolve.provider import (
    PYTHON,
    InstalledPreference,
    PackageKey,
    PackagingProvider,
    ResolveOptions,
    parse_filename,
    split_key,
)
from pipwise.resolve.pubgrub import (
    BaseReporter,
    Dependency,
    Incompatibility,
    Reporter,
    SolverBudgetExceeded,
    SolverFailure,
    solve,
)
from pipwise.target import MarkerError, Target

__all__ = ["InstalledPreference", "ResolveOptions", "resolve"]

#: Decisions after which the solver gives up with an explanation instead of running on.
MAX_STEPS = 20_000
_QUIET_SECONDS = 3.0
_REPORT_EVERY = 3.0
#: What a direct URL must name.
_ARCHIVES = (".whl", ".tar.gz", ".zip")


def _direct_candidate(requested: RequestedRequirement, position: int, target: Target) -> Candidate:
    """A ``name @ URL`` requirement (at ``position`` in the request) as the only candidate
    for that name, judged for ``target`` like any file an index offers."""
    req = requested.requirement
    assert req.url is not None
    url, hashes = split_hash_fragment(req.url)
    filename = link_filename(url)
    link = Link(url=url, filename=filename, comes_from=requested.source, hashes=hashes)
    python = Version(".".join(map(str, target.version)))
    name = canonicalize_name(req.name)
    verdict = evaluate(link, name=name, tags=target.tags, python_version=python)
    if isinstance(verdict, Candidate):
        return verdict
    evidence = (f"{requested.source}: {req}", verdict.reason)
    if verdict.category == "name-mismatch":
        parsed = parse_filename(filename)
        assert parsed is not None, "the evaluator read a project name from the file name"
        renamed = Requirement(str(req))
        renamed.name = parsed[0]
        raise DiagnosticError(
            "direct-url-name-mismatch",
            "usage",
            f"the requirement names {req.name!r} but {filename} is {parsed[0]!r}",
            evidence=evidence,
            note=f"name the project the file holds: '{renamed}'",
            details={"change": request_change({position: renamed})},
        )
    if verdict.category == "invalid-filename" and filename.endswith(_ARCHIVES):
        raise DiagnosticError(
            "invalid-archive-name",
            "usage",
            f"{filename} is not a valid wheel or source archive name",
            evidence=evidence,
            note="a wheel is named NAME-VERSION(-BUILD)-PYTHON-ABI-PLATFORM.whl and a source "
            "archive NAME-VERSION.tar.gz; rename the file or point at a correctly named one",
        )
    if verdict.category == "invalid-filename":
        raise DiagnosticError(
            "unsupported-direct-url",
            "usage",
            f"{req.name} @ {url} is not a wheel or source archive",
            evidence=evidence,
            note="a URL or path requirement must name a .whl, .tar.gz or .zip file",
        )
    best = target.tags[0]
    raise DiagnosticError(
        "no-compatible-distribution",
        "resolution",
        f"{filename} cannot be installed on Python {python} "
        f"({best.interpreter}-{best.abi}-{best.platform})",
        evidence=evidence,
        note=f"use a file built for this target, or ask for {req.name} without a URL so that "
        "a fitting file is chosen from the index",
    )


class _ProgressReporter(BaseReporter[PackageKey]):
    """Stays quiet on quick solves; once solving takes a while, says every few seconds which
    package the solver is backtracking on and why, and counts conflicts per package for the
    diagnosis when the budget runs out."""

    def __init__(
        self, status: Callable[[str], None], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.status = status
        self.clock = clock
        self.started = clock()
        self.last_said = self.started
        self.conflicts: Counter[PackageKey] = Counter()

    def backtracking(self, package: PackageKey, cause: Incompatibility[PackageKey]) -> None:
        self.conflicts[package] += 1
        now = self.clock()
        if now - self.started >= _QUIET_SECONDS and now - self.last_said >= _REPORT_EVERY:
            self.last_said = now
            self.status(
                f"Still resolving after {now - self.started:.0f}s: backtracking on {package} "
                f"({self.conflicts[package]} conflicts) because {cause}"
            )


def resolve(
    requested: Sequence[RequestedRequirement],
    *,
    finder: Finder,
    preparer: Preparer,
    target: Target,
    installed: Mapping[NormalizedName, InstalledPreference],
    options: ResolveOptions,
    status: Callable[[str], None] = lambda _: None,
    budget: int = MAX_STEPS,
) -> Resolution:
    """Choose a version for every package the request needs on ``target``.

    ``budget`` bounds the solver's steps (decisions and conflict resolutions): past it the
    solve stops with a diagnosis naming the packages it kept backtracking on. A diagnosis
    that suggests a change to the request puts it in ``details["change"]``, naming
    positions in ``requested`` (see `pipwise.resolve.explain.request_change`).
    """
    wanted: list[tuple[int, RequestedRequirement]] = []
    for position, r in enumerate(requested):
        if _marker_applies(r, target):
            wanted.append((position, r))
        else:
            status(
                f"Ignoring {r.requirement} ({r.source}): its marker does not match "
                f"Python {target.version_string}"
            )
    direct = _direct_candidates(wanted, target)
    constraints: dict[NormalizedName, tuple[SpecifierSet, str]] = {}
    for _, r in wanted:
        if r.constraint:
            name = canonicalize_name(r.requirement.name)
            previous = constraints.get(name)
            spec = r.requirement.specifier & (previous[0] if previous else SpecifierSet())
            constraints[name] = (spec, r.source)
    roots = [r for _, r in wanted if not r.constraint]
    with PackagingProvider(
        finder=finder,
        preparer=preparer,
        target=target,
        installed=installed,
        options=options,
        requested={canonicalize_name(r.requirement.name) for r in roots},
        direct=direct,
        constraints=constraints,
        explicit_pre=frozenset(
            canonicalize_name(r.requirement.name)
            for _, r in wanted
            if r.requirement.specifier.prereleases
        ),
    ) as first:
        reporter = _ProgressReporter(status)
        first.prefetch([canonicalize_name(r.requirement.name) for r in roots])
        try:
            solution, provider = _solve_merging(first, roots, requested, reporter, budget)
        except _Failed as failed:

            def retry(
                changed: Sequence[RequestedRequirement], pre: bool
            ) -> Mapping[PackageKey, Version] | None:
                return _try_solve(changed, requested, first, pre)

            raise diagnose_failure(
                failed.failure, failed.provider, roots, requested, retry
            ) from None
        except SolverBudgetExceeded as exceeded:
            busiest = ", ".join(
                f"{package} ({count} conflicts)"
                for package, count in reporter.conflicts.most_common(5)
            )
            raise DiagnosticError(
                "resolution-too-deep",
                "resolution",
                f"gave up after {exceeded.steps} solver steps without finding a solution",
                evidence=(
                    f"it was working on {exceeded.package}",
                    f"packages with the most conflicts: {busiest or 'none'}",
                ),
                note="pin the packages named above to narrow the search, or raise the limit "
                "with --resolution-budget",
            ) from None
        solution = {key: version for key, version in solution.items() if key != PYTHON}
        count = sum(1 for key in solution if split_key(key)[1] is None)
        status(f"Resolved {count} package{'s' if count != 1 else ''}")
        for name, version, extra in sorted(provider.unknown_extras):
            if solution.get(name) == version:
                status(f"warning: {name} {version} does not provide the extra '{extra}'")
        for (name, skipped), reason in sorted(provider.unavailable.items()):
            chosen = solution.get(name)
            if chosen is not None and skipped > chosen:
                status(f"note: {name} {skipped} was skipped ({reason}); using {name} {chosen}")
        return _resolution(solution, provider, roots, direct)


def _marker_applies(requested: RequestedRequirement, target: Target) -> bool:
    """Whether the requirement's marker holds for the target; a marker that cannot be
    evaluated is the user's to fix."""
    try:
        return target.marker_applies(requested.requirement.marker)
    except MarkerError as exc:
        raise DiagnosticError(
            "invalid-marker",
            "usage",
            f"the marker of {requested.requirement.name} cannot be evaluated for the target",
            evidence=(f"{requested.source}: {requested.requirement}", str(exc)),
            note="compare versions with version markers (python_version, "
            "python_full_version, platform_release) and names with == or !=; see PEP 508",
        ) from None


def _direct_candidates(
    wanted: Sequence[tuple[int, RequestedRequirement]], target: Target
) -> dict[NormalizedName, Candidate]:
    """The ``name @ URL`` requirements (constraints aside), one URL per name."""
    direct: dict[NormalizedName, Candidate] = {}
    for position, r in wanted:
        if not r.requirement.url or r.constraint:
            continue
        candidate = _direct_candidate(r, position, target)
        seen = direct.setdefault(candidate.name, candidate)
        if seen.link.url != candidate.link.url:
            raise DiagnosticError(
                "conflicting-urls",
                "resolution",
                f"{candidate.name} is asked for from two different URLs",
                evidence=(
                    f"{seen.link.comes_from} asks for {candidate.name} @ {seen.link.url}",
                    f"{r.source} asks for {candidate.name} @ {candidate.link.url}",
                ),
                note=f"only one file can be installed for {candidate.name}: keep one of the "
                "two requirements",
            )
    return direct


class _Failed(Exception):
    """The last round failed: its solver failure, and the provider that explains it."""

    def __init__(self, failure: SolverFailure[PackageKey], provider: PackagingProvider) -> None:
        super().__init__(str(failure))
        self.failure = failure
        self.provider = provider


#: Rounds of pip's merged-specifier rules after the first solve before a failure is final.
_MERGE_ROUNDS = 3


def _solve_merging(
    provider: PackagingProvider,
    roots: Sequence[RequestedRequirement],
    requested: Sequence[RequestedRequirement],
    reporter: Reporter[PackageKey] | None,
    budget: int,
) -> tuple[dict[PackageKey, Version], PackagingProvider]:
    """Solve; after a failure, apply pip's rule that all specifiers on a name are merged
    before deciding on pre-releases and yanked files, and solve again if that allows more.

    The solver materialises each requirement's versions on its own, so `lib>=1` from one
    parent has excluded `lib 2.0b1` before `lib>=2.0b1` from another arrives; pip, merging
    both, would take the pre-release. The rounds reuse everything already fetched; the
    providers they derive share ``provider``'s threads, which its owner closes.
    """
    rounds = 0
    while True:
        try:
            deps = _root_dependencies(roots, provider, requested)
            return solve(provider, deps, reporter=reporter, max_steps=budget), provider
        except SolverFailure as failure:
            pre, pins = provider.merged_view()
            options = provider.options
            if options.pre or options.prerelease != "pip":
                pre = set()  # a uv-style policy says exactly what it allows
            new_pre, new_pins = pre - provider.merged_pre, pins - provider.merged_pins
            if rounds == _MERGE_ROUNDS or not (new_pre or new_pins):
                raise _Failed(failure, provider) from None
            rounds += 1
            provider = provider.derive(
                merged_pre=provider.merged_pre | new_pre,
                merged_pins=provider.merged_pins | new_pins,
            )


def _try_solve(
    roots: Sequence[RequestedRequirement],
    requested: Sequence[RequestedRequirement],
    provider: PackagingProvider,
    pre: bool,
) -> Mapping[PackageKey, Version] | None:
    """Solve a changed request as a new run would (merge rounds included) under
    ``provider``'s policy, reusing what was fetched; None when it fails too."""
    what_if = provider.derive(options=replace(provider.options, pre=provider.options.pre or pre))
    try:
        return _solve_merging(what_if, roots, requested, None, MAX_STEPS // 4)[0]
    except (_Failed, SolverBudgetExceeded, DiagnosticError):
        return None


def _root_dependencies(
    roots: Sequence[RequestedRequirement],
    provider: PackagingProvider,
    requested: Sequence[RequestedRequirement],
) -> list[Dependency[PackageKey]]:
    """One dependency per requested name (specifiers of repeated names intersected)."""
    merged: dict[NormalizedName, list[RequestedRequirement]] = {}
    for r in roots:
        merged.setdefault(canonicalize_name(r.requirement.name), []).append(r)
    deps: list[Dependency[PackageKey]] = []
    for name, group in merged.items():
        check_requested(name, group, provider, requested)
        spec = SpecifierSet()
        for r in group:
            spec &= r.requirement.specifier
        extras = sorted({canonicalize_name(e) for r in group for e in r.requirement.extras})
        url = next((r.requirement.url for r in group if r.requirement.url), None)
        # A direct reference reads as written: "app @ URL", "app==2.0 @ URL".
        label = f"{spec} @ {url}" if url else (str(spec) or "any version")
        allowed = provider.allows(name, spec)
        deps.append(Dependency(name, allowed, label))
        deps += [Dependency(f"{name}[{e}]", allowed, label) for e in extras]
    return deps


def _resolution(
    solution: Mapping[PackageKey, Version],
    provider: PackagingProvider,
    roots: Sequence[RequestedRequirement],
    direct: Mapping[NormalizedName, Candidate],
) -> Resolution:
    extras: dict[NormalizedName, set[str]] = {}
    for key in solution:
        name, extra = split_key(key)
        if extra is not None:
            extras.setdefault(name, set()).add(extra)
    requested = {canonicalize_name(r.requirement.name) for r in roots}
    pins: dict[NormalizedName, Pin] = {}
    for key, version in solution.items():
        name, extra = split_key(key)
        if extra is not None:
            continue
        candidate = provider.candidate(name, version) or _installed_candidate(name, version)
        direct_url = None
        if name in direct:
            link = direct[name].link
            info: dict[str, object] = {"archive_info": {}}
            if link.hashes:
                algorithm, digest = next(iter(link.hashes.items()))
                info = {"archive_info": {"hashes": {algorithm: digest}}}
            direct_url = DirectUrl(link.url, info)
        pins[name] = Pin(
            name=name,
            version=version,
            candidate=candidate,
            extras=frozenset(extras.get(name, ())),
            requested=name in requested,
            direct_url=direct_url,
        )
    return Resolution(pins=dict(sorted(pins.items())))


def _installed_candidate(name: NormalizedName, version: Version) -> Candidate:
    """The installed version, kept, when the index no longer offers it."""
    link = Link(url="", filename="", comes_from="the environment")
    return Candidate(name=name, version=version, link=link, kind="wheel")
