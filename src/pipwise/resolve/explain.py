"""A failed resolution as a diagnosis: the root cause in a sentence, the facts behind it with
where each came from, the versions that exist but were excluded (and why), and fixes that
the solver has checked. The full derivation is kept for ``--verbose`` and JSON."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

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
)

__all__ = ["Retry", "check_requested", "diagnose_failure"]

#: Re-solves a changed request; returns the pins, or None when it fails too.
Retry = Callable[[Sequence[RequestedRequirement], bool], Mapping[PackageKey, Version] | None]

_MAX_EVIDENCE = 8


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


def _fact_text(
    fact: ExternalCause[PackageKey], origins: _Origins, provider: PackagingProvider
) -> str | None:
    if isinstance(fact, Requested):
        name = split_key(fact.package)[0]
        where = ", ".join(dict.fromkeys(origins.sources.get(name, ("the request",))))
        return f"{where} asks for {fact.package}{_label(fact.label)}"
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
        if fact.not_found:
            if _has_files(fact.package, provider):
                return (
                    f"{fact.package} has no file usable on this target "
                    f"({origins.chain(fact.package)})"
                )
            return f"{fact.package} is not on any configured index ({origins.chain(fact.package)})"
        if not _label(fact.versions.label):
            return f"no usable version of {fact.package} exists"
        return f"no version of {fact.package} matches {fact.versions}"
    if isinstance(fact, UnavailableVersion):
        return f"{fact.package} {fact.version} cannot be used: {fact.reason}"
    return None


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
    for fact in facts:
        if isinstance(fact, NoVersions) and fact.package != PYTHON:
            if fact.not_found and _has_files(fact.package, provider):
                return (
                    f"{fact.package} is needed ({origins.chain(fact.package)}) but none of its "
                    "files can be installed on this target"
                )
            if fact.not_found:
                return f"{fact.package} is needed but was not found ({origins.chain(fact.package)})"
            if not _label(fact.versions.label):
                return f"no usable version of {fact.package} exists"
            return f"no version of {fact.package} matches {fact.versions}"
    for fact in facts:
        if isinstance(fact, UnavailableVersion):
            return f"{fact.package} {fact.version} cannot be used: {fact.reason}"
    return "the requirements cannot all be satisfied together"


def _demand(fact: Requested[PackageKey] | DependsOn[PackageKey], origins: _Origins) -> str:
    if isinstance(fact, Requested):
        name = split_key(fact.package)[0]
        where = origins.sources.get(name, ("the request",))[0]
        return f"{where} asks for {fact.package}{_label(fact.label)}"
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
    sdists = [v for (n, v) in provider.unavailable if n == name]
    if sdists:
        lines.append(f"{name} {_versions_text(sdists)}: only source distributions")
    constraint = provider.constraints.get(name)
    if constraint is not None:
        lines.append(f"{name} is limited to {constraint[0]} by a constraint ({constraint[1]})")
    return lines


def check_requested(
    name: NormalizedName, group: Sequence[RequestedRequirement], provider: PackagingProvider
) -> None:
    """A requested name with no installable file gets its own diagnosis, not a solver trace:
    not found (with close names), only sdists, or files for other Pythons or platforms."""
    package = provider.package(name)
    result = package.result
    requested = group[0]
    display = requested.requirement.name
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
                f"requested by {requested.source}",
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
        similar = provider.finder.similar_names(name)
        evidence = [f"requested by {requested.source}", f"looked in: {where}"]
        if similar:
            evidence.append("similar names on the index: " + ", ".join(similar))
        raise DiagnosticError(
            "package-not-found",
            "resolution",
            f"no package named {display!r} was found",
            evidence=tuple(evidence),
            fix=f"pipwise install {_replace_name(requested, similar[0])}" if similar else None,
            note="check the spelling of the name, and that the index holding it is configured "
            "(--index-url / --extra-index-url)",
        )
    evidence = [f"requested by {requested.source}", f"looked in: {where}"]
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


def _replace_name(requested: RequestedRequirement, name: str) -> str:
    """The requirement as typed, with another project name (for a spelling fix)."""
    text = str(requested.requirement)
    return shlex.quote(name + text[len(requested.requirement.name) :])


_PYTHON_NO_MATCH = re.compile(rf"no versions of {PYTHON} match ")
_PYTHON_WHICH = re.compile(rf"\b{PYTHON}(\S*?) which doesn't match any versions")


def diagnose_failure(
    failure: SolverFailure[PackageKey],
    provider: PackagingProvider,
    roots: Sequence[RequestedRequirement],
    retry: Retry,
) -> DiagnosticError:
    """The diagnosis of a failed solve (checked fixes are found by calling ``retry``)."""
    explanation = failure.explanation
    facts = explanation.facts
    origins = _origins(facts, roots)
    evidence = [text for fact in facts if (text := _fact_text(fact, origins, provider))]
    packages = {split_key(p)[0] for p in explanation.packages if p != PYTHON}
    excluded = [line for name in sorted(packages) for line in _exclusions(name, provider)]
    summary = _summary(facts, origins, provider)
    evidence = [line for line in dict.fromkeys(evidence) if line != summary]
    evidence = evidence[:_MAX_EVIDENCE] + excluded[:_MAX_EVIDENCE]
    fix, note = _checked_fix(roots, packages, provider, retry)
    derivation = _PYTHON_NO_MATCH.sub(
        f"the target's Python {provider.python} does not match ", explanation.render()
    )
    derivation = _PYTHON_WHICH.sub(
        rf"Python\1, which the target's Python {provider.python} does not satisfy", derivation
    )
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
    return DiagnosticError(
        "requires-python-mismatch" if only_python else "resolution-impossible",
        "resolution",
        summary,
        evidence=tuple(evidence),
        fix=fix,
        note=note or "run with --verbose for the full derivation",
        details={"derivation": derivation, "explanation": explanation.to_json()},
    )


def _checked_fix(
    roots: Sequence[RequestedRequirement],
    packages: set[NormalizedName],
    provider: PackagingProvider,
    retry: Retry,
) -> tuple[str | None, str | None]:
    """A change to the request that the solver has shown to work, if one is found cheaply."""
    if (
        not provider.options.pre
        and provider.options.prerelease == "pip"
        and any(v.is_prerelease for name in packages for v in provider.package(name).universe)
    ):
        pins = retry(roots, True)
        if pins is not None:
            chosen = ", ".join(f"{k}=={v}" for k, v in pins.items() if split_key(k)[0] in packages)
            note = f"with --pre the request resolves ({chosen})"
            if all(r.source == "the command line" for r in roots):
                return _command(roots, roots, provider) + " --pre", note
            return None, note + "; add --pre to the command"
    for index, root in enumerate(roots):
        name = canonicalize_name(root.requirement.name)
        package = provider.package(name)
        if name in packages and package.yanked and not root.requirement.url:
            # PEP 592: a yanked version may be used when pinned exactly; check that it works.
            newest = max(package.yanked)
            pinned = Requirement(str(root.requirement))
            pinned.specifier = SpecifierSet(f"=={newest}")
            changed = [
                *roots[:index],
                RequestedRequirement(pinned, root.source),
                *roots[index + 1 :],
            ]
            if retry(changed, False) is not None:
                note = f"{name} {newest} is yanked; pinned exactly, the request resolves"
                return _command(roots, changed, provider), note
        if name not in packages or not root.requirement.specifier or root.requirement.url:
            continue
        if root.constraint:
            continue
        loosened = Requirement(str(root.requirement))
        loosened.specifier = SpecifierSet()
        changed = _replaced(roots, index, loosened)
        pins = retry(changed, False)
        if pins is not None:
            version = pins.get(name)
            note = (
                f"without {root.requirement.specifier} on {root.requirement.name} "
                f"({root.source}) the request resolves, with {name} {version}"
            )
            return _command(roots, changed, provider), note
    return None, None


def _replaced(
    roots: Sequence[RequestedRequirement], index: int, requirement: Requirement
) -> list[RequestedRequirement]:
    """``roots`` with the requirement at ``index`` changed (same source)."""
    changed = list(roots)
    changed[index] = RequestedRequirement(requirement, roots[index].source)
    return changed


def _command(
    original: Sequence[RequestedRequirement],
    changed: Sequence[RequestedRequirement],
    provider: PackagingProvider,
) -> str:
    """The install command for ``changed`` (aimed at the same interpreter) when every
    requirement came from the command line; otherwise the file line to edit."""
    edited = [c for o, c in zip(original, changed, strict=True) if o is not c]
    if all(r.source == "the command line" for r in changed):
        python = shlex.quote(provider.target.executable)
        requirements = " ".join(shlex.quote(str(r.requirement)) for r in changed)
        return f"pipwise install --python {python} {requirements}"
    return f"change {edited[0].source} to {str(edited[0].requirement)!r}"
