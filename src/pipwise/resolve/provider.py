"""Python packaging semantics for the PubGrub solver: extras, markers, pre-releases, yanked
files, Requires-Python, installed versions and direct URLs, as answers to "which versions?"
and "what does this version need?"."""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import (
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from pipwise.dists import Candidate, DirectUrl, Rejection
from pipwise.errors import DiagnosticError
from pipwise.index.finder import Finder, FindResult
from pipwise.prepare import Preparer
from pipwise.resolve.pubgrub import Dependency, Unavailable
from pipwise.target import Target

if TYPE_CHECKING:
    from packaging.metadata import RawMetadata

__all__ = [
    "PYTHON",
    "InstalledPreference",
    "PackageKey",
    "PackagingProvider",
    "ResolveOptions",
    "split_key",
]

#: A solver package: ``name`` or ``name[extra]`` (the extra as its own virtual package).
PackageKey = str


def split_key(key: PackageKey) -> tuple[NormalizedName, str | None]:
    """``"rich[jupyter]"`` -> ``("rich", "jupyter")``."""
    if key.endswith("]") and "[" in key:
        name, _, extra = key[:-1].partition("[")
        return NormalizedName(name), extra
    return NormalizedName(key), None


@dataclass(frozen=True, slots=True)
class InstalledPreference:
    """A version already in the environment, kept unless an upgrade is asked for."""

    version: Version
    requires: tuple[str, ...]
    direct_url: DirectUrl | None = None


PrereleasePolicy = Literal[
    "pip", "disallow", "allow", "if-necessary", "explicit", "if-necessary-or-explicit"
]
UpgradeStrategy = Literal["only-if-needed", "eager"]


@dataclass(frozen=True, slots=True)
class ResolveOptions:
    """How the request treats upgrades, pre-releases and the existing environment."""

    #: ``-U``: named packages (and with ``eager``, all their dependencies) go to the newest.
    upgrade: bool = False
    upgrade_strategy: UpgradeStrategy = "only-if-needed"
    #: ``--pre``: pre-releases count as candidates everywhere.
    pre: bool = False
    #: ``--prerelease``: "pip" is pip's default (``--pre``, a specifier naming one, or only
    #: pre-releases match); the others are uv's stable-first policies.
    prerelease: PrereleasePolicy = "pip"
    no_deps: bool = False
    #: ``--force-reinstall``: installed versions are not preferred.
    reinstall: bool = False
    #: ``--ignore-installed``: resolve as if the environment were empty.
    ignore_installed: bool = False


#: The target interpreter as a solver package, so Requires-Python shows in explanations
#: ("lib 3.0 depends on Python>=3.12"). Canonical project names are lower-case, so no
#: project can be called this.
PYTHON: PackageKey = "Python"


@dataclass(slots=True)
class _Package:
    """Everything known about one project's versions."""

    result: FindResult
    #: version -> its candidates, best first.
    by_version: dict[Version, list[Candidate]] = field(default_factory=dict)
    #: Versions whose every file is yanked (PEP 592).
    yanked: set[Version] = field(default_factory=set)
    #: Versions whose files the index marks for other Pythons: version -> Requires-Python.
    python_only: dict[Version, SpecifierSet] = field(default_factory=dict)
    #: The universe: every version the solver may consider, newest first.
    universe: list[Version] = field(default_factory=list)


#: A Requires-Dist marker that is exactly one ``extra == "name"`` clause.
_ONLY_EXTRA = re.compile(r"""^\s*extra\s*==\s*(['"])([^'"]+)\1\s*$""")


def _may_apply(line: str, extra: str | None) -> bool:
    """False for a Requires-Dist line that applies only to an extra other than ``extra``.

    Most lines of a large project are for its extras; skipping those unparsed saves most of
    the parsing. Any other marker is parsed and evaluated in full.
    """
    match = _ONLY_EXTRA.match(line.partition(";")[2])
    if match is None:
        return True
    return extra is not None and canonicalize_name(match.group(2)) == extra


def _is_exact_pin(spec: SpecifierSet) -> bool:
    """PEP 592: yanked files may satisfy only ``==`` (no wildcard) or ``===`` pins."""
    return any(
        s.operator == "===" or (s.operator == "==" and not s.version.endswith(".*")) for s in spec
    )


def _rejected_version(rejection: Rejection) -> Version | None:
    filename = rejection.link.filename
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[1]
        return parse_sdist_filename(filename)[1]
    except ValueError:
        return None


class PackagingProvider:
    """Answers the solver's questions from the finder, the preparer and the environment."""

    def __init__(
        self,
        *,
        finder: Finder,
        preparer: Preparer,
        target: Target,
        installed: Mapping[NormalizedName, InstalledPreference],
        options: ResolveOptions,
        requested: set[NormalizedName],
        direct: Mapping[NormalizedName, Candidate],
        constraints: Mapping[NormalizedName, tuple[SpecifierSet, str]],
        explicit_pre: frozenset[NormalizedName] = frozenset(),
        merged_pre: frozenset[NormalizedName] = frozenset(),
        merged_pins: frozenset[tuple[NormalizedName, Version]] = frozenset(),
        share: PackagingProvider | None = None,
    ) -> None:
        self.finder = finder
        self.preparer = preparer
        self.target = target
        self.installed = installed
        self.options = options
        self.requested = requested
        self.direct = direct
        self.constraints = constraints
        #: Packages whose requested specifiers name a pre-release (``--prerelease explicit``).
        self.explicit_pre = explicit_pre
        #: pip merges every specifier on a name: these names get pre-releases because their
        #: merged specifier names one or admits no final release (found by a failed round).
        self.merged_pre = merged_pre
        #: Yanked versions pinned exactly by some requirement, so usable by all (PEP 592, pip).
        self.merged_pins = merged_pins
        #: Extras asked for that a version does not declare (pip ignores them with a warning).
        self.unknown_extras: set[tuple[NormalizedName, Version, str]] = set()
        #: Every specifier seen per name, for working out the merged view after a failure.
        self.specs_seen: dict[NormalizedName, list[SpecifierSet]] = {
            name: [spec] for name, (spec, _) in constraints.items()
        }
        # Requires-Python compares the release (pip uses sys.version_info[:3]), so a 3.13.0rc1
        # interpreter satisfies >=3.13.
        self.python = Version(".".join(map(str, target.version)))
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="pipwise-prefetch")
        # A provider for a what-if re-solve shares what was fetched, not the policy.
        self._packages: dict[NormalizedName, _Package] = share._packages if share else {}
        self._metadata: dict[str, Future[RawMetadata]] = share._metadata if share else {}
        #: Versions the solver could not use, with the reason, for the final report.
        self.unavailable: dict[tuple[NormalizedName, Version], str] = (
            share.unavailable if share else {}
        )

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- what exists ---------------------------------------------------------------------

    def package(self, name: NormalizedName) -> _Package:
        """The project's candidates, fetched once."""
        with self._lock:
            known = self._packages.get(name)
        if known is not None:
            return known
        if name in self.direct:
            candidate = self.direct[name]
            result = FindResult(
                name=name, candidates=(candidate,), rejections=(), index_url=None, sources=()
            )
        else:
            result = self.finder.find(name)
        package = _Package(result)
        for candidate in result.candidates:
            package.by_version.setdefault(candidate.version, []).append(candidate)
        for version, files in package.by_version.items():
            if all(c.link.yanked is not None for c in files):
                package.yanked.add(version)
        for rejection in result.rejections:
            spec = rejection.link.requires_python
            if rejection.category != "requires-python" or not spec:
                continue  # platform rejections can be hundreds of files: parse no names
            rejected = _rejected_version(rejection)
            if rejected is not None and rejected not in package.by_version:
                with contextlib.suppress(InvalidSpecifier):
                    package.python_only.setdefault(rejected, SpecifierSet(spec))
        package.universe = sorted({*package.by_version, *package.python_only}, reverse=True)
        with self._lock:
            return self._packages.setdefault(name, package)

    def _keep_installed(self, name: NormalizedName) -> bool:
        options = self.options
        if name not in self.installed or options.reinstall or options.ignore_installed:
            return False
        if name in self.direct:
            return False
        if options.upgrade and options.upgrade_strategy == "eager":
            return False
        return not (options.upgrade and name in self.requested)

    def _prereleases_last(self, name: NormalizedName) -> bool:
        """uv's stable-first policies: stable versions are tried first and a pre-release only
        when every stable one is ruled out (``explicit`` also prefers stable versions)."""
        if self.options.pre:
            return False
        return self.options.prerelease in ("if-necessary", "if-necessary-or-explicit", "explicit")

    def versions(self, key: PackageKey) -> Sequence[Version]:
        """Versions most preferred first: the installed one (unless upgrading), then newest."""
        if key == PYTHON:
            return [self.python]
        name, _ = split_key(key)
        ordered = list(self.package(name).universe)
        if self._prereleases_last(name):
            ordered.sort(key=lambda v: v.is_prerelease)  # stable: keeps newest-first within
        if self._keep_installed(name):
            current = self.installed[name].version
            ordered = [current, *(v for v in ordered if v != current)]
        constraint = self.constraints.get(name)
        if constraint is not None:
            ordered = [v for v in ordered if constraint[0].contains(v, prereleases=True)]
        return ordered

    def allows_prereleases(self, name: NormalizedName, spec: SpecifierSet) -> bool:
        """Whether pre-releases of ``name`` may satisfy ``spec`` under the request's policy."""
        policy = self.options.prerelease
        if self.options.pre or policy in ("allow", "if-necessary"):
            return True
        if policy == "disallow":
            return False
        if name in self.merged_pre and policy == "pip":
            return True
        if policy == "if-necessary-or-explicit":  # uv treats it as if-necessary now
            return True
        if policy == "explicit":
            return name in self.explicit_pre
        # pip: a specifier naming a pre-release, or no final release satisfying it at all.
        if spec.prereleases:
            return True
        return not any(
            not v.is_prerelease and spec.contains(v, prereleases=True) for v in self.versions(name)
        )

    def allows(self, name: NormalizedName, spec: SpecifierSet) -> Callable[[Version], bool]:
        """The version predicate of a requirement, with the pre-release and yanked rules."""
        package = self.package(name)
        exact = _is_exact_pin(spec)
        pre = self.allows_prereleases(name, spec)
        with self._lock:
            self.specs_seen.setdefault(name, []).append(spec)

        def allowed(version: Version) -> bool:
            installed = self._is_installed(name, version)
            if (
                version in package.yanked
                and not exact
                and not installed
                and (name, version) not in self.merged_pins
            ):
                return False
            # An installed pre-release satisfies a specifier that would not pick it (PEP 440).
            return spec.contains(version, prereleases=pre or installed)

        return allowed

    def _is_installed(self, name: NormalizedName, version: Version) -> bool:
        installed = self.installed.get(name)
        return installed is not None and installed.version == version

    # -- what a version needs -------------------------------------------------------------

    def candidate(self, name: NormalizedName, version: Version) -> Candidate | None:
        """The file that would be installed for ``version``: the best wheel that is not yanked
        (PEP 592 yanks files, not versions), else the best file."""
        files = self.package(name).by_version.get(version, [])
        return next((c for c in files if c.link.yanked is None), files[0] if files else None)

    def merged_view(self) -> tuple[set[NormalizedName], set[tuple[NormalizedName, Version]]]:
        """What pip's merging of all specifiers on a name would allow that the per-requirement
        rules did not: names whose merged specifier names a pre-release or admits no final
        release, and yanked versions some requirement pins exactly."""
        pre: set[NormalizedName] = set()
        pins: set[tuple[NormalizedName, Version]] = set()
        with self._lock:
            seen = {name: list(specs) for name, specs in self.specs_seen.items()}
        for name, specs in seen.items():
            merged = SpecifierSet()
            for spec in specs:
                merged &= spec
            universe = self.versions(name)
            finals = [v for v in universe if not v.is_prerelease and merged.contains(v, True)]
            if merged.prereleases or (not finals and any(v.is_prerelease for v in universe)):
                pre.add(name)
            for spec in specs:
                if _is_exact_pin(spec):
                    yanked = self.package(name).yanked
                    pins |= {(name, v) for v in universe if v in yanked and spec.contains(v, True)}
        return pre, pins

    def prefetch(self, names: Sequence[NormalizedName]) -> None:
        """Fetch pages and likely metadata in the background while the solver works (only from
        the network: local reads are CPU work that a thread would only slow down)."""
        if self.finder.is_local:
            return
        for name in names:
            if name not in self._packages:
                self._pool.submit(self._prefetch_one, name)

    def _prefetch_one(self, name: NormalizedName) -> None:
        try:
            versions = self.versions(name)
        except DiagnosticError:
            return  # reported when the solver asks for it
        if versions:
            candidate = self.candidate(name, versions[0])
            # A local wheel's metadata is CPU work (zip and email parsing): in a thread it only
            # competes for the GIL, so it is read when the solver asks. Remote files overlap.
            if (
                candidate is not None
                and candidate.kind == "wheel"
                and not candidate.link.is_file_url
            ):
                self._metadata_future(candidate)

    def _metadata_future(self, candidate: Candidate) -> Future[RawMetadata]:
        with self._lock:
            future = self._metadata.get(candidate.link.url)
            if future is not None:
                return future
            if candidate.link.is_file_url:
                future = Future()
                self._metadata[candidate.link.url] = future
            else:
                future = self._pool.submit(self.preparer.raw_metadata, candidate)
                self._metadata[candidate.link.url] = future
                return future
        try:
            future.set_result(self.preparer.raw_metadata(candidate))
        except BaseException as exc:
            future.set_exception(exc)
        return future

    def _python_dependency(self, spec: SpecifierSet) -> Dependency[PackageKey]:
        return Dependency(PYTHON, lambda v: spec.contains(v, prereleases=True), str(spec))

    def requirements_of(
        self, name: NormalizedName, version: Version
    ) -> tuple[SpecifierSet | None, list[str]]:
        """The version's Requires-Python and Requires-Dist lines, unparsed (the environment's,
        when the installed version is kept)."""
        if self._keep_installed(name) and self.installed[name].version == version:
            return None, list(self.installed[name].requires)
        python_only = self.package(name).python_only.get(version)
        if python_only is not None:
            return python_only, []  # the Python dependency decides; no metadata is needed
        candidate = self.candidate(name, version)
        if candidate is None:
            raise Unavailable(f"{name} {version} has no files on the index")
        if candidate.kind != "wheel":
            reason = "only a source distribution, and source builds are not supported yet"
            self.unavailable[(name, version)] = reason
            raise Unavailable(reason)
        raw = self._metadata_future(candidate).result()
        requires_python = None
        if raw.get("requires_python"):
            with contextlib.suppress(InvalidSpecifier):
                requires_python = SpecifierSet(raw["requires_python"])
        return requires_python, list(raw.get("requires_dist", []))

    def dependencies(self, key: PackageKey, version: Version) -> Sequence[Dependency[PackageKey]]:
        """Dependencies of ``key`` at ``version`` for the target's markers."""
        if key == PYTHON:
            return []
        name, extra = split_key(key)
        requires_python, requirements = self.requirements_of(name, version)
        deps: list[Dependency[PackageKey]] = []
        if requires_python is not None and extra is None:
            deps.append(self._python_dependency(requires_python))
        if self.options.no_deps:
            return deps
        environment = dict(self.target.markers)
        applicable = []
        for line in requirements:
            if not _may_apply(line, extra):
                continue
            try:
                requirement = Requirement(line)
            except InvalidRequirement:
                reason = f"its metadata has an invalid requirement {line!r}"
                self.unavailable[(name, version)] = reason
                raise Unavailable(reason) from None
            if requirement.marker is not None:
                environment["extra"] = extra or ""
                if not requirement.marker.evaluate(environment):
                    continue
            elif extra is not None:
                continue  # the base package carries unconditional requirements
            applicable.append(requirement)
        self.prefetch([canonicalize_name(r.name) for r in applicable])
        if extra is not None:
            base: Dependency[PackageKey] = Dependency(name, lambda v: v == version, f"=={version}")
            deps.append(base)
            self._note_unknown_extra(name, version, extra)
        for requirement in applicable:
            deps += self.requirement_dependencies(requirement)
        return deps

    def _note_unknown_extra(self, name: NormalizedName, version: Version, extra: str) -> None:
        candidate = self.candidate(name, version)
        if candidate is None or candidate.kind != "wheel" or self._keep_installed(name):
            return
        declared = self._metadata_future(candidate).result().get("provides_extra", [])
        if extra not in {canonicalize_name(e) for e in declared}:
            self.unknown_extras.add((name, version, extra))

    def requirement_dependencies(self, requirement: Requirement) -> list[Dependency[PackageKey]]:
        """A requirement as solver dependencies: the package, plus one per extra."""
        name = canonicalize_name(requirement.name)
        spec = requirement.specifier
        if requirement.url and name not in self.direct:
            raise DiagnosticError(
                "direct-url-dependency",
                "resolution",
                f"a dependency asks for {name} from a URL ({requirement.url})",
                evidence=(str(requirement),),
                note="URL dependencies of packages are only honoured when you name the same URL "
                f"yourself: add '{name} @ {requirement.url}' to the requirements you install",
                fix=None,
            )
        label = str(spec) or "any version"
        predicate = self.allows(name, spec)
        deps: list[Dependency[PackageKey]] = [Dependency(name, predicate, label)]
        for extra in sorted(canonicalize_name(e) for e in requirement.extras):
            deps.append(Dependency(f"{name}[{extra}]", predicate, label))
        return deps
