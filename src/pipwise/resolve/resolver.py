"""Resolve a request: requirements in, a `Resolution` (or a diagnosis of why not) out."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping, Sequence

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
from pipwise.resolve.provider import (
    InstalledPreference,
    PackageKey,
    PackagingProvider,
    ResolveOptions,
    split_key,
)
from pipwise.resolve.pubgrub import (
    BaseReporter,
    Dependency,
    SolverBudgetExceeded,
    SolverFailure,
    solve,
)
from pipwise.target import Target

__all__ = ["InstalledPreference", "ResolveOptions", "resolve"]

#: Decisions after which the solver gives up with an explanation instead of running on.
MAX_STEPS = 20_000


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


class _StatusReporter(BaseReporter[PackageKey]):
    def __init__(self, status: Callable[[str], None]) -> None:
        self.status = status


def resolve(
    requested: Sequence[RequestedRequirement],
    *,
    finder: Finder,
    preparer: Preparer,
    target: Target,
    installed: Mapping[NormalizedName, InstalledPreference],
    options: ResolveOptions,
    status: Callable[[str], None] = lambda _: None,
) -> Resolution:
    """Choose a version for every package the request needs on ``target``."""
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
    )
    try:
        provider.prefetch([canonicalize_name(r.requirement.name) for r in roots])
        root_deps = _root_dependencies(roots, provider)
        try:
            solution = solve(
                provider, root_deps, reporter=_StatusReporter(status), max_steps=MAX_STEPS
            )
        except SolverFailure as failure:
            raise _explain(failure, provider) from None
        except SolverBudgetExceeded as exceeded:
            raise DiagnosticError(
                "resolution-too-deep",
                "resolution",
                f"gave up after {MAX_STEPS} steps without finding a solution",
                evidence=(str(exceeded),),
                fix=None,
                note="pin the packages named above to narrow the search",
            ) from None
    finally:
        provider.close()
    count = sum(1 for key in solution if split_key(key)[1] is None)
    status(f"Resolved {count} package{'s' if count != 1 else ''}")
    for (name, skipped), reason in sorted(provider.unavailable.items()):
        chosen = solution.get(name)
        if chosen is not None and skipped > chosen:
            status(f"note: {name} {skipped} was skipped ({reason}); using {name} {chosen}")
    return _resolution(solution, provider, roots, direct)


def _root_dependencies(
    roots: Sequence[RequestedRequirement], provider: PackagingProvider
) -> list[Dependency[PackageKey]]:
    """One dependency per requested name (specifiers of repeated names intersected)."""
    merged: dict[NormalizedName, list[RequestedRequirement]] = {}
    for r in roots:
        merged.setdefault(canonicalize_name(r.requirement.name), []).append(r)
    deps: list[Dependency[PackageKey]] = []
    for name, group in merged.items():
        _check_exists(name, group, provider)
        spec = SpecifierSet()
        for r in group:
            spec &= r.requirement.specifier
        extras = sorted({canonicalize_name(e) for r in group for e in r.requirement.extras})
        label = str(spec) or "any version"
        predicate = provider.allows(name, spec)
        deps.append(Dependency(name, predicate, label))
        deps += [Dependency(f"{name}[{e}]", predicate, label) for e in extras]
    return deps


def _check_exists(
    name: NormalizedName, group: Sequence[RequestedRequirement], provider: PackagingProvider
) -> None:
    """A requested name with no usable files at all gets its own diagnosis, not a solver trace."""
    package = provider.package(name)
    result = package.result
    if package.by_version and all(
        c.kind == "sdist" for files in package.by_version.values() for c in files
    ):
        newest = result.candidates[0]
        raise DiagnosticError(
            "source-build-unsupported",
            "build",
            f"{group[0].requirement.name} is only available as source distributions, and "
            "building from source is not supported yet",
            evidence=(
                f"requested by {group[0].source}",
                f"newest file: {newest.link.filename} "
                f"(from {result.index_url or newest.link.comes_from})",
                f"{len(result.candidates)} source distribution(s), no wheel for any version",
            ),
            note="build a wheel elsewhere (python -m build --wheel) and install the .whl file",
        )
    if package.by_version:
        return
    where = ", ".join(result.sources) or "no index (--no-index and no --find-links)"
    if not result.rejections:
        similar = provider.finder.similar_names(name)
        evidence = [f"requested by {group[0].source}", f"looked in: {where}"]
        if similar:
            evidence.append("similar names on the index: " + ", ".join(similar))
        raise DiagnosticError(
            "package-not-found",
            "resolution",
            f"no package named {group[0].requirement.name!r} was found",
            evidence=tuple(evidence),
            fix=f"pipwise install {_replace_name(group[0], similar[0])}" if similar else None,
            note="check the spelling of the name, and that the index holding it is configured "
            "(--index-url / --extra-index-url)",
        )
    by_reason: dict[str, list[str]] = {}
    for rejection in result.rejections:
        by_reason.setdefault(rejection.category, []).append(rejection.reason)
    evidence = [f"requested by {group[0].source}", f"looked in: {where}"]
    for category, reasons in by_reason.items():
        evidence.append(f"{len(reasons)} file(s) skipped ({category}): {reasons[0]}")
    raise DiagnosticError(
        "no-compatible-distribution",
        "resolution",
        f"{group[0].requirement.name} has files, but none that can be installed on Python "
        f"{provider.target.version_string} ({provider.target.tags[0]})",
        evidence=tuple(evidence),
    )


def _replace_name(requested: RequestedRequirement, name: str) -> str:
    """The requirement as typed, with another project name (for a spelling fix)."""
    text = str(requested.requirement)
    rest = text[len(requested.requirement.name) :]
    return shlex.quote(name + rest)


def _explain(failure: SolverFailure[PackageKey], provider: PackagingProvider) -> DiagnosticError:
    text = str(failure)
    evidence = [line for line in text.splitlines() if line.strip()]
    evidence += [
        f"{name} {version} was skipped: {reason}"
        for (name, version), reason in sorted(provider.unavailable.items())
        if reason not in text
    ]
    reasons = set(provider.unavailable.values())
    if reasons and all(reason.startswith("requires Python") for reason in reasons):
        note = (
            f"the versions that would fit need another Python than "
            f"{provider.target.version_string}; choose a target with --python X.Y"
        )
    else:
        note = "loosen or drop one of the requirements named above"
    return DiagnosticError(
        "resolution-impossible",
        "resolution",
        "the requirements cannot all be satisfied together",
        evidence=tuple(evidence),
        note=note,
    )


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
