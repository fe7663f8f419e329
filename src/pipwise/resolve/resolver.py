"""Resolve a request: requirements in, a `Resolution` (or a diagnosis of why not) out."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.utils import (
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from pipwise.dists import Candidate, DirectUrl, Link, Pin, Resolution
from pipwise.errors import DiagnosticError
from pipwise.formats.requirements import RequestedRequirement
from pipwise.index.finder import Finder
from pipwise.prepare import Preparer
from pipwise.resolve.explain import check_requested, diagnose_failure
from pipwise.resolve.provider import (
    PYTHON,
    InstalledPreference,
    PackageKey,
    PackagingProvider,
    ResolveOptions,
    split_key,
)
from pipwise.resolve.pubgrub import (
    BaseReporter,
    Dependency,
    Incompatibility,
    SolverBudgetExceeded,
    SolverFailure,
    solve,
)
from pipwise.resolve.pubgrub.incompatibility import describe
from pipwise.target import Target

__all__ = ["InstalledPreference", "ResolveOptions", "resolve"]

#: Decisions after which the solver gives up with an explanation instead of running on.
MAX_STEPS = 20_000
_QUIET_SECONDS = 3.0
_REPORT_EVERY = 3.0


def _direct_candidate(requested: RequestedRequirement) -> Candidate:
    """A ``name @ URL`` requirement as the only candidate for that name."""
    req = requested.requirement
    assert req.url is not None
    url = req.url
    filename = url.rsplit("/", 1)[-1].split("#", 1)[0]
    hashes = {}
    if "#" in url:
        algorithm, _, digest = url.split("#", 1)[1].partition("=")
        if digest:
            hashes[algorithm] = digest
    link = Link(
        url=url.split("#", 1)[0], filename=filename, comes_from=requested.source, hashes=hashes
    )
    name = canonicalize_name(req.name)
    if filename.endswith(".whl"):
        wheel_name, version, _, _ = parse_wheel_filename(filename)
        kind = "wheel"
    else:
        try:
            wheel_name, version = parse_sdist_filename(filename)
        except ValueError:
            raise DiagnosticError(
                "unsupported-direct-url",
                "usage",
                f"{req.name} @ {url} is not a wheel or source archive",
                evidence=(f"from {requested.source}",),
                note="only wheel files can be installed from a URL or path so far",
            ) from None
        kind = "sdist"
    if wheel_name != name:
        raise DiagnosticError(
            "direct-url-name-mismatch",
            "usage",
            f"the requirement names {req.name!r} but {filename} is {wheel_name!r}",
            evidence=(f"from {requested.source}: {req}",),
            fix=f"pipwise install '{wheel_name} @ {url}'",
        )
    return Candidate(name=name, version=version, link=link, kind=kind)  # type: ignore[arg-type]


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
                f"({self.conflicts[package]} conflicts) because {describe(cause)}"
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
    solve stops with a diagnosis naming the packages it kept backtracking on.
    """
    environment = {**target.markers, "extra": ""}
    wanted = [
        r
        for r in requested
        if r.requirement.marker is None or r.requirement.marker.evaluate(environment)
    ]
    for ignored in set(requested) - set(wanted):
        status(
            f"Ignoring {ignored.requirement} ({ignored.source}): its marker does not match "
            f"Python {target.version_string}"
        )
    direct = {
        canonicalize_name(r.requirement.name): _direct_candidate(r)
        for r in wanted
        if r.requirement.url and not r.constraint
    }
    constraints: dict[NormalizedName, tuple[SpecifierSet, str]] = {}
    for r in wanted:
        if r.constraint:
            name = canonicalize_name(r.requirement.name)
            previous = constraints.get(name)
            spec = r.requirement.specifier & (previous[0] if previous else SpecifierSet())
            constraints[name] = (spec, r.source)
    roots = [r for r in wanted if not r.constraint]
    provider = PackagingProvider(
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
            for r in wanted
            if r.requirement.specifier.prereleases
        ),
    )
    reporter = _ProgressReporter(status)
    try:
        provider.prefetch([canonicalize_name(r.requirement.name) for r in roots])
        try:
            solution, provider = _solve_merging(provider, roots, reporter, budget)
        except _Failed as failed:
            last = failed.provider

            def retry(
                changed: Sequence[RequestedRequirement], pre: bool
            ) -> Mapping[PackageKey, Version] | None:
                return _try_solve(changed, last, pre)

            try:
                raise diagnose_failure(failed.failure, last, roots, retry) from None
            finally:
                last.close()
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
    finally:
        provider.close()
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


class _Failed(Exception):
    """The last round failed: its solver failure, and the provider that explains it."""

    def __init__(self, failure: SolverFailure[PackageKey], provider: PackagingProvider) -> None:
        super().__init__(str(failure))
        self.failure = failure
        self.provider = provider


#: Rounds of pip's merged-specifier rules before a failure is final.
_MERGE_ROUNDS = 3


def _solve_merging(
    provider: PackagingProvider,
    roots: Sequence[RequestedRequirement],
    reporter: _ProgressReporter,
    budget: int,
) -> tuple[dict[PackageKey, Version], PackagingProvider]:
    """Solve; after a failure, apply pip's rule that all specifiers on a name are merged
    before deciding on pre-releases and yanked files, and solve again if that allows more.

    The solver materialises each requirement's versions on its own, so `lib>=1` from one
    parent has excluded `lib 2.0b1` before `lib>=2.0b1` from another arrives; pip, merging
    both, would take the pre-release. The rounds reuse everything already fetched.
    """
    for _ in range(_MERGE_ROUNDS):
        try:
            deps = _root_dependencies(roots, provider)
            return solve(provider, deps, reporter=reporter, max_steps=budget), provider
        except SolverFailure as failure:
            pre, pins = provider.merged_view()
            options = provider.options
            if options.pre or options.prerelease != "pip":
                pre = set()  # a uv-style policy says exactly what it allows
            new_pre, new_pins = pre - provider.merged_pre, pins - provider.merged_pins
            if not new_pre and not new_pins:
                raise _Failed(failure, provider) from None
            previous = provider
            provider = _derive(
                provider,
                merged_pre=provider.merged_pre | new_pre,
                merged_pins=provider.merged_pins | new_pins,
            )
            previous.close()
    deps = _root_dependencies(roots, provider)
    try:
        return solve(provider, deps, reporter=reporter, max_steps=budget), provider
    except SolverFailure as failure:
        raise _Failed(failure, provider) from None


def _derive(provider: PackagingProvider, **changes: Any) -> PackagingProvider:
    """A provider like ``provider`` with some policy changed, sharing what was fetched."""
    fields: dict[str, Any] = {
        "finder": provider.finder,
        "preparer": provider.preparer,
        "target": provider.target,
        "installed": provider.installed,
        "options": provider.options,
        "requested": provider.requested,
        "direct": provider.direct,
        "constraints": provider.constraints,
        "explicit_pre": provider.explicit_pre,
        "merged_pre": provider.merged_pre,
        "merged_pins": provider.merged_pins,
    }
    return PackagingProvider(**{**fields, **changes}, share=provider)


def _try_solve(
    roots: Sequence[RequestedRequirement], provider: PackagingProvider, pre: bool
) -> Mapping[PackageKey, Version] | None:
    """Solve a changed request, reusing what was fetched; None when it fails too."""
    options = replace(provider.options, pre=provider.options.pre or pre)
    what_if = _derive(provider, options=options)
    try:
        return solve(what_if, _root_dependencies(roots, what_if), max_steps=MAX_STEPS // 4)
    except (SolverFailure, SolverBudgetExceeded, DiagnosticError):
        return None
    finally:
        what_if.close()


def _root_dependencies(
    roots: Sequence[RequestedRequirement], provider: PackagingProvider
) -> list[Dependency[PackageKey]]:
    """One dependency per requested name (specifiers of repeated names intersected)."""
    merged: dict[NormalizedName, list[RequestedRequirement]] = {}
    for r in roots:
        merged.setdefault(canonicalize_name(r.requirement.name), []).append(r)
    deps: list[Dependency[PackageKey]] = []
    for name, group in merged.items():
        check_requested(name, group, provider)
        spec = SpecifierSet()
        for r in group:
            spec &= r.requirement.specifier
        extras = sorted({canonicalize_name(e) for r in group for e in r.requirement.extras})
        url = next((r.requirement.url for r in group if r.requirement.url), None)
        label = f" @ {url}" if url else (str(spec) or "any version")
        predicate = provider.allows(name, spec)
        deps.append(Dependency(name, predicate, label))
        deps += [Dependency(f"{name}[{e}]", predicate, label) for e in extras]
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
