"""A failed resolution as a diagnosis: the root cause in a sentence, the facts behind it with
where each came from, the versions that exist but were excluded (and why), and changes to
the request that the solver has checked. The full derivation is kept for ``--verbose`` and
JSON.

A change is data, ``details["change"]``, for the command layer to turn into the user's own
command line (see `request_change`); the diagnosis itself carries no ``fix`` command."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name, parse_wheel_filename
from packaging.version import Version

from pipwise.errors import DiagnosticError
from pipwise.formats.requirements import RequestedRequirement
from pipwise.resolve.provider import PYTHON, PackageKey, PackagingProvider, split_key
from pipwise.resolve.pubgrub import (
    DependsOn,
    ExternalCause,
    NoVersions,
    Requested,
    SolverFailure,
    UnavailableVersion,
    VersionSet,
    explain,
)

__all__ = ["Retry", "check_requested", "diagnose_failure", "request_change"]

#: Re-solves a changed request; returns the pins, or None when it fails too.
Retry = Callable[[Sequence[RequestedRequirement], bool], Mapping[PackageKey, Version] | None]

_MAX_EVIDENCE = 8


def request_change(
    replace: Mapping[int, Requirement] | None = None, *, pre: bool = False
) -> dict[str, Any]:
    """A change to the request, as JSON-ready data for ``details["change"]``::

        {"replace": {"<i>": "<requirement>"}, "add_flags": ["--pre"]}

    ``<i>`` is a position (as a string) in the ``requested`` sequence given to `resolve`,
    counting every entry, constraints included; the requirement there is to be replaced by
    the new text (always a requirement, never a constraint). ``add_flags`` are options to
    add to the command. Both keys are always present; either may be empty.
    """
    replaced = {str(i): str(r) for i, r in sorted((replace or {}).items())}
    return {"replace": replaced, "add_flags": ["--pre"] if pre else []}


def _position(requested: Sequence[RequestedRequirement], root: RequestedRequirement) -> int | None:
    """Where ``root`` is in ``requested``; None for a requirement of a what-if request."""
    return next((i for i, r in enumerate(requested) if r is root), None)


@dataclass(frozen=True, slots=True)
class _TargetWording:
    """The solver's wording, with the target interpreter's facts said as such."""

    python: Version

    def package(self, package: PackageKey) -> str:
        return package

    def no_versions(self, package: PackageKey, versions: VersionSet) -> str | None:
        if package == PYTHON:
            return f"the target's Python {self.python} does not satisfy"
        return None


@dataclass(frozen=True, slots=True)
class _Origins:
    """Where each requested package came from, and who depends on what (for chains)."""

    sources: Mapping[NormalizedName, tuple[str, ...]]
    parents: Mapping[PackageKey, tuple[PackageKey, Version]]

    def chain(self, key: PackageKey, version: Version | None = None) -> str:
        """``requirements.txt:3 → app 1.0 → lib 2.0``: how a package came to be needed."""
        steps = [f"{key} {version}" if version is not None else str(key)]
        seen = {key}
        current = key
        while current in self.parents and len(steps) < 8:
            parent, parent_version = self.parents[current]
            if parent in seen:
                break
            seen.add(parent)
            steps.append(f"{parent} {parent_version}")
            current = parent
        name = split_key(current)[0]
        root = self.sources.get(name)
        if root:
            steps.append(root[0])
        return " → ".join(reversed(steps))


def _origins(
    facts: Iterable[ExternalCause[PackageKey]], roots: Sequence[RequestedRequirement]
) -> _Origins:
    sources: dict[NormalizedName, list[str]] = {}
    for r in roots:
        sources.setdefault(canonicalize_name(r.requirement.name), []).append(r.source)
    parents: dict[PackageKey, tuple[PackageKey, Version]] = {}
    for fact in facts:
        if isinstance(fact, DependsOn) and fact.depender_version is not None:
            parents.setdefault(fact.package, (fact.depender, fact.depender_version))
    return _Origins({k: tuple(v) for k, v in sources.items()}, parents)


def _has_files(package: PackageKey, provider: PackagingProvider) -> bool:
    """Whether the index offered files for ``package`` (all rejected), rather than none."""
    return bool(provider.package(split_key(package)[0]).result.rejections)


def _label(text: str | None) -> str:
    return "" if not text or text == "any version" else text


def _requested_text(
    fact: Requested[PackageKey], origins: _Origins, *, every_source: bool = True
) -> str:
    """``requirements.txt:2 asks for lib==1.0`` (the first source only, unless
    ``every_source``)."""
    sources = origins.sources.get(split_key(fact.package)[0], ("the request",))
    where = ", ".join(dict.fromkeys(sources)) if every_source else sources[0]
    return f"{where} asks for {fact.package}{_label(fact.label)}"


def _no_versions_text(
    fact: NoVersions[PackageKey], origins: _Origins, provider: PackagingProvider
) -> str:
    if fact.not_found:
        if _has_files(fact.package, provider):
            return (
                f"{fact.package} has no file usable on this target ({origins.chain(fact.package)})"
            )
        return f"{fact.package} is not on any configured index ({origins.chain(fact.package)})"
    label = _label(fact.versions.label)
    if not label:
        return f"no usable version of {fact.package} exists"
    return f"no version of {fact.package} matches {label.strip()}"


def _fact_text(
    fact: ExternalCause[PackageKey], origins: _Origins, provider: PackagingProvider
) -> str | None:
    if isinstance(fact, Requested):
        return _requested_text(fact, origins)
    if isinstance(fact, DependsOn):
        depender = origins.chain(fact.depender, fact.depender_version)
        if fact.package == PYTHON:
            return (
                f"{depender} requires Python {_label(fact.label) or 'any'} (Requires-Python); "
                f"the target is Python {provider.python}"
            )
        return f"{depender} → {fact.package}{_label(fact.label) or ' (any version)'}"
    if isinstance(fact, NoVersions):
        if fact.package == PYTHON:
            return None  # the Requires-Python edge says it
        return _no_versions_text(fact, origins, provider)
    return f"{fact.package} {fact.version} cannot be used: {fact.reason}"


def _summary(
    facts: Sequence[ExternalCause[PackageKey]], origins: _Origins, provider: PackagingProvider
) -> str:
    """The root cause in one sentence: two demands on one package, or the one that fails."""
    demands: dict[PackageKey, list[Requested[PackageKey] | DependsOn[PackageKey]]] = {}
    for fact in facts:
        if isinstance(fact, (Requested, DependsOn)) and fact.package != PYTHON:
            demands.setdefault(fact.package, []).append(fact)
    pairs = []
    for found in demands.values():
        labelled = [f for f in found if _label(f.label)]
        pairs += [(a, b) for i, a in enumerate(labelled) for b in labelled[i + 1 :]]
    # Two demands that no version satisfies together are the conflict; any pair otherwise.
    pairs.sort(key=lambda pair: not pair[0].versions.isdisjoint(pair[1].versions))
    if pairs:
        first, second = (_demand(f, origins) for f in pairs[0])
        return f"{first}, but {second}"
    pythons = [f for f in facts if isinstance(f, DependsOn) and f.package == PYTHON]
    if pythons:
        depender = pythons[0]
        others = len({f.depender_version for f in pythons if f.depender == depender.depender})
        which = (
            f"every version of {depender.depender} that could be used"
            if others > 1
            else f"{depender.depender} {depender.depender_version}"
        )
        return (
            f"{which} requires Python {_label(depender.label)}, "
            f"but the target is Python {provider.python}"
        )
    for kind in (NoVersions, UnavailableVersion):
        for fact in facts:
            if isinstance(fact, kind) and (text := _fact_text(fact, origins, provider)):
                return text
    return "the requirements cannot all be satisfied together"


def _demand(fact: Requested[PackageKey] | DependsOn[PackageKey], origins: _Origins) -> str:
    if isinstance(fact, Requested):
        return _requested_text(fact, origins, every_source=False)
    return f"{fact.depender} {fact.depender_version} needs {fact.package}{_label(fact.label)}"


def _versions_text(versions: Iterable[Version], limit: int = 4) -> str:
    ordered = sorted(set(versions), reverse=True)
    shown = ", ".join(map(str, ordered[:limit]))
    return shown + (f" and {len(ordered) - limit} more" if len(ordered) > limit else "")


def _exclusions(name: NormalizedName, provider: PackagingProvider) -> list[str]:
    """Versions of ``name`` that exist but were not candidates, grouped by reason."""
    package = provider.package(name)
    lines: list[str] = []
    by_python: dict[str, list[Version]] = {}
    for version, requires_python in package.python_only.items():
        by_python.setdefault(str(requires_python), []).append(version)
    for spec_text, versions in by_python.items():
        lines.append(
            f"{name} {_versions_text(versions)}: requires Python {spec_text} "
            f"(target {provider.python})"
        )
    tagged: dict[Version, set[str]] = {}
    for rejection in package.result.rejections:
        if rejection.category == "tags" and rejection.link.filename.endswith(".whl"):
            try:
                _, version, _, tags = parse_wheel_filename(rejection.link.filename)
            except ValueError:
                continue
            if version not in package.by_version:
                tagged.setdefault(version, set()).update(
                    f"{t.interpreter}-{t.platform}" for t in tags
                )
    if tagged:
        kinds = sorted({tag for tags in tagged.values() for tag in tags})
        shown = ", ".join(kinds[:4]) + (f" and {len(kinds) - 4} more" if len(kinds) > 4 else "")
        best = provider.target.tags[0]
        lines.append(
            f"{name} {_versions_text(tagged)}: no wheel for this target "
            f"({best.interpreter}-{best.platform}); wheels exist for {shown}"
        )
    for version in sorted(package.yanked, reverse=True):
        reason = next((c.link.yanked for c in package.by_version[version] if c.link.yanked), "")
        lines.append(f"{name} {version}: yanked" + (f" ({reason})" if reason else ""))
    pre = [v for v in package.universe if v.is_prerelease]
    if pre and not provider.allows_prereleases(name, SpecifierSet()):
        policy = provider.options.prerelease
        why = (
            "not considered without --pre"
            if policy == "pip"
            else f"excluded by --prerelease {policy}"
        )
        lines.append(f"{name} {_versions_text(pre)}: pre-releases, {why}")
    direct = provider.direct.get(name)
    if direct is not None:
        lines.append(
            f"{name} is fixed to {direct.version} by {direct.link.comes_from}: "
            f"{name} @ {direct.link.url}"
        )
    unusable: dict[str, list[Version]] = {}
    for (unusable_name, version), reason in sorted(provider.unavailable.items()):
        if unusable_name == name:
            unusable.setdefault(reason, []).append(version)
    for reason, versions in unusable.items():
        lines.append(f"{name} {_versions_text(versions)}: {reason}")
    constraint = provider.constraints.get(name)
    if constraint is not None:
        lines.append(f"{name} is limited to {constraint[0]} by a constraint ({constraint[1]})")
    return lines


def check_requested(
    name: NormalizedName,
    group: Sequence[RequestedRequirement],
    provider: PackagingProvider,
    requested: Sequence[RequestedRequirement],
) -> None:
    """A requested name with no installable file gets its own diagnosis, not a solver trace:
    not found (with close names), only sdists, or files for other Pythons or platforms.

    ``group`` holds the requirements on ``name``; ``requested`` is what `resolve` was given
    (a spelling suggestion names a position in it)."""
    package = provider.package(name)
    result = package.result
    first = group[0]
    display = first.requirement.name
    where = ", ".join(result.sources) or "no index (--no-index and no --find-links)"
    spec = SpecifierSet()
    for r in group:
        spec &= r.requirement.specifier
    wanted = [
        files
        for version, files in package.by_version.items()
        if spec.contains(version, prereleases=True)
    ]
    if wanted and all(c.kind == "sdist" for files in wanted for c in files):
        newest = next(c for files in wanted for c in files)
        raise DiagnosticError(
            "source-build-unsupported",
            "build",
            f"{display} is only available as source distributions, and building from source "
            "is not supported yet",
            evidence=(
                f"requested by {first.source}",
                f"newest file: {newest.link.filename} "
                f"(from {result.index_url or newest.link.comes_from})",
                f"{sum(map(len, wanted))} source distribution(s) and no wheel for "
                + (f"{display}{spec}" if spec else "any version"),
            ),
            note="build a wheel elsewhere (python -m build --wheel) and install the .whl file",
        )
    if package.by_version:
        return
    if not result.rejections:
        raise _not_found(name, first, provider, requested, where)
    evidence = [f"requested by {first.source}", f"looked in: {where}"]
    evidence += _exclusions(name, provider)
    if package.python_only and {r.category for r in result.rejections} == {"requires-python"}:
        specs = sorted({str(spec) for spec in package.python_only.values()})
        raise DiagnosticError(
            "requires-python-mismatch",
            "resolution",
            f"every version of {display} requires another Python than the target's "
            f"{provider.python}",
            evidence=tuple(evidence),
            note=f"choose an interpreter that satisfies {' or '.join(specs)} with --python",
        )
    best = provider.target.tags[0]
    raise DiagnosticError(
        "no-compatible-distribution",
        "resolution",
        f"{display} has files, but none that can be installed on Python {provider.python} "
        f"({best.interpreter}-{best.abi}-{best.platform})",
        evidence=tuple(evidence),
    )


def _not_found(
    name: NormalizedName,
    root: RequestedRequirement,
    provider: PackagingProvider,
    requested: Sequence[RequestedRequirement],
    where: str,
) -> DiagnosticError:
    similar = provider.finder.similar_names(name)
    evidence = [f"requested by {root.source}", f"looked in: {where}"]
    note = (
        "check the spelling of the name, and that the index holding it is configured "
        "(--index-url / --extra-index-url)"
    )
    details: dict[str, Any] = {}
    if similar:
        evidence.append("similar names on the index: " + ", ".join(similar))
        respelled = _replace_name(root.requirement, similar[0])
        note += f"; did you mean '{respelled}'?"
        position = _position(requested, root)
        if position is not None:
            details["change"] = request_change({position: respelled})
    return DiagnosticError(
        "package-not-found",
        "resolution",
        f"no package named {root.requirement.name!r} was found",
        evidence=tuple(evidence),
        note=note,
        details=details,
    )


def _replace_name(requirement: Requirement, name: str) -> Requirement:
    """The requirement with another project name (for a spelling suggestion)."""
    respelled = Requirement(str(requirement))
    respelled.name = name
    return respelled


def diagnose_failure(
    failure: SolverFailure[PackageKey],
    provider: PackagingProvider,
    roots: Sequence[RequestedRequirement],
    requested: Sequence[RequestedRequirement],
    retry: Retry,
) -> DiagnosticError:
    """The diagnosis of a failed solve of ``roots`` (the requirements of ``requested``, the
    sequence given to `resolve`, that the solver was asked for); changes that fix it are
    checked by calling ``retry``."""
    explanation = explain(failure.incompatibility, _TargetWording(provider.python))
    facts = explanation.facts
    origins = _origins(facts, roots)
    evidence = [text for fact in facts if (text := _fact_text(fact, origins, provider))]
    packages = {split_key(p)[0] for p in explanation.packages if p != PYTHON}
    excluded = [line for name in sorted(packages) for line in _exclusions(name, provider)]
    summary = _summary(facts, origins, provider)
    evidence = [line for line in dict.fromkeys(evidence) if line != summary]
    evidence = evidence[:_MAX_EVIDENCE] + excluded[:_MAX_EVIDENCE]
    change, note = _checked_change(roots, requested, packages, provider, retry)
    only_python = all(
        (isinstance(f, DependsOn) and f.package == PYTHON)
        or isinstance(f, Requested)
        or (isinstance(f, NoVersions) and f.package == PYTHON)
        for f in facts
    ) and any(isinstance(f, DependsOn) and f.package == PYTHON for f in facts)
    # Only when the request sets no version limit: otherwise loosening it is the way out.
    only_python = only_python and not any(
        isinstance(f, Requested) and _label(f.label) for f in facts
    )
    details: dict[str, Any] = {
        "derivation": explanation.render(),
        "explanation": explanation.to_json(),
    }
    if change is not None:
        details["change"] = change
    return DiagnosticError(
        "requires-python-mismatch" if only_python else "resolution-impossible",
        "resolution",
        summary,
        evidence=tuple(evidence),
        note=note or "run with --verbose for the full derivation",
        details=details,
    )


def _checked_change(
    roots: Sequence[RequestedRequirement],
    requested: Sequence[RequestedRequirement],
    packages: set[NormalizedName],
    provider: PackagingProvider,
    retry: Retry,
) -> tuple[dict[str, Any] | None, str | None]:
    """A change to the request that the solver has shown to work, if one is found cheaply,
    with a note saying what it is."""
    options = provider.options
    if (
        not options.pre
        and options.prerelease == "pip"
        and any(provider.holds_back_prereleases(name) for name in packages)
    ):
        pins = retry(roots, True)
        if pins is not None:
            chosen = ", ".join(f"{k}=={v}" for k, v in pins.items() if split_key(k)[0] in packages)
            note = f"with --pre the request resolves ({chosen}): add --pre to the command"
            return request_change(pre=True), note
    for index, root in enumerate(roots):
        name = canonicalize_name(root.requirement.name)
        if name not in packages or root.requirement.url:
            continue
        position = _position(requested, root)
        assert position is not None, "a root is one of the requirements given to resolve"
        yanked = provider.package(name).yanked
        if yanked:
            # PEP 592: a yanked version may be used when pinned exactly; check that it works.
            newest = max(yanked)
            pinned = Requirement(str(root.requirement))
            pinned.specifier = SpecifierSet(f"=={newest}")
            if retry(_replaced(roots, index, pinned), False) is not None:
                note = (
                    f"{name} {newest} is yanked; pinned exactly, the request resolves: "
                    f"ask for '{pinned}' instead of '{root.requirement}' ({root.source})"
                )
                return request_change({position: pinned}), note
        if not root.requirement.specifier:
            continue
        loosened = Requirement(str(root.requirement))
        loosened.specifier = SpecifierSet()
        pins = retry(_replaced(roots, index, loosened), False)
        if pins is not None:
            note = (
                f"without {root.requirement.specifier} on {root.requirement.name} "
                f"({root.source}) the request resolves, with {name} {pins.get(name)}: "
                f"ask for '{loosened}' instead of '{root.requirement}'"
            )
            return request_change({position: loosened}), note
    return None, None


def _replaced(
    roots: Sequence[RequestedRequirement], index: int, requirement: Requirement
) -> list[RequestedRequirement]:
    """``roots`` with the requirement at ``index`` changed (same source)."""
    changed = list(roots)
    changed[index] = RequestedRequirement(requirement, roots[index].source)
    return changed
