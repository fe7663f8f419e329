"""Python packaging semantics for the PubGrub solver: extras, markers, pre-releases, yanked
files, Requires-Python, installed versions and direct URLs, as answers to "which versions?"
and "what does this version need?"."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

from packaging.metadata import Metadata
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from pipwise.dists import Candidate, DirectUrl
from pipwise.errors import DiagnosticError
from pipwise.index.finder import Finder, FindResult
from pipwise.prepare import Preparer
from pipwise.resolve.pubgrub import Dependency, Unavailable
from pipwise.target import Target

__all__ = ["InstalledPreference", "PackageKey", "PackagingProvider", "ResolveOptions", "split_key"]

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


@dataclass(slots=True)
class _Package:
    """Everything known about one project's versions."""

    result: FindResult
    #: version -> its candidates, best first.
    by_version: dict[Version, list[Candidate]] = field(default_factory=dict)
    #: Versions whose every file is yanked (PEP 592).
    yanked: set[Version] = field(default_factory=set)


def _is_exact_pin(spec: SpecifierSet) -> bool:
    """PEP 592: yanked files may satisfy only ``==`` (no wildcard) or ``===`` pins."""
    return any(
        s.operator == "===" or (s.operator == "==" and not s.version.endswith(".*")) for s in spec
    )


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
    ) -> None:
        self.finder = finder
        self.preparer = preparer
        self.target = target
        self.installed = installed
        self.options = options
        self.requested = requested
        self.direct = direct
        self.constraints = constraints
        self.python = Version(target.version_string)
        self._packages: dict[NormalizedName, _Package] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="pipwise-prefetch")
        self._metadata: dict[str, Future[Metadata]] = {}
        #: Versions the solver could not use, with the reason, for the final report.
        self.unavailable: dict[tuple[NormalizedName, Version], str] = {}

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

    def versions(self, key: PackageKey) -> Sequence[Version]:
        """Versions most preferred first: the installed one (unless upgrading), then newest."""
        name, _ = split_key(key)
        package = self.package(name)
        ordered = list(package.by_version)
        if self._keep_installed(name):
            current = self.installed[name].version
            ordered = [current, *(v for v in ordered if v != current)]
        constraint = self.constraints.get(name)
        if constraint is not None:
            ordered = [v for v in ordered if constraint[0].contains(v, prereleases=True)]
        return ordered

    def allows(self, name: NormalizedName, spec: SpecifierSet) -> Callable[[Version], bool]:
        """The version predicate of a requirement, with pip's pre-release and yanked rules."""
        package = self.package(name)
        exact = _is_exact_pin(spec)
        finals = [
            v
            for v in self.versions(name)
            if not v.is_prerelease and spec.contains(v, prereleases=True)
        ]
        # Pre-releases count when asked for, when the specifier names one, or when no final
        # release satisfies the specifier at all (PEP 440 / pip).
        pre = self.options.pre or bool(spec.prereleases) or not finals

        def allowed(version: Version) -> bool:
            if version in package.yanked and not exact and not self._is_installed(name, version):
                return False
            return spec.contains(version, prereleases=pre)

        return allowed

    def _is_installed(self, name: NormalizedName, version: Version) -> bool:
        installed = self.installed.get(name)
        return installed is not None and installed.version == version

    # -- what a version needs -------------------------------------------------------------

    def candidate(self, name: NormalizedName, version: Version) -> Candidate | None:
        """The file that would be installed for ``version``: the best wheel, else an sdist."""
        files = self.package(name).by_version.get(version, [])
        return files[0] if files else None

    def prefetch(self, names: Sequence[NormalizedName]) -> None:
        """Fetch pages and likely metadata in the background while the solver works."""
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
            if candidate is not None and candidate.kind == "wheel":
                self._metadata_future(candidate)

    def _metadata_future(self, candidate: Candidate) -> Future[Metadata]:
        with self._lock:
            future = self._metadata.get(candidate.link.url)
            if future is None:
                future = self._pool.submit(self.preparer.metadata, candidate)
                self._metadata[candidate.link.url] = future
            return future

    def requirements_of(self, name: NormalizedName, version: Version) -> list[Requirement]:
        """The version's ``Requires-Dist`` (from the environment when it is the installed one)."""
        if self._keep_installed(name) and self.installed[name].version == version:
            return [Requirement(r) for r in self.installed[name].requires]
        candidate = self.candidate(name, version)
        if candidate is None:
            raise Unavailable(f"{name} {version} has no files on the index")
        if candidate.kind != "wheel":
            reason = "only a source distribution, and source builds are not supported yet"
            self.unavailable[(name, version)] = reason
            raise Unavailable(reason)
        metadata = self._metadata_future(candidate).result()
        if metadata.requires_python is not None and not metadata.requires_python.contains(
            self.python, prereleases=True
        ):
            reason = (
                f"requires Python {metadata.requires_python}; "
                f"target is {self.target.version_string}"
            )
            self.unavailable[(name, version)] = reason
            raise Unavailable(reason)
        return list(metadata.requires_dist or [])

    def dependencies(self, key: PackageKey, version: Version) -> Sequence[Dependency[PackageKey]]:
        """Dependencies of ``key`` at ``version`` for the target's markers."""
        name, extra = split_key(key)
        if self.options.no_deps:
            return []
        requirements = self.requirements_of(name, version)
        environment = dict(self.target.markers)
        applicable = []
        for requirement in requirements:
            if requirement.marker is not None:
                environment["extra"] = extra or ""
                if not requirement.marker.evaluate(environment):
                    continue
            elif extra is not None:
                continue  # the base package carries unconditional requirements
            applicable.append(requirement)
        self.prefetch([canonicalize_name(r.name) for r in applicable])
        deps: list[Dependency[PackageKey]] = []
        if extra is not None:
            base: Dependency[PackageKey] = Dependency(name, lambda v: v == version, f"=={version}")
            deps.append(base)
        for requirement in applicable:
            deps += self.requirement_dependencies(requirement)
        return deps

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
                "yourself",
                fix=f"pipwise install '{name} @ {requirement.url}' ...",
            )
        label = str(spec) or "any version"
        predicate = self.allows(name, spec)
        deps: list[Dependency[PackageKey]] = [Dependency(name, predicate, label)]
        for extra in sorted(canonicalize_name(e) for e in requirement.extras):
            deps.append(Dependency(f"{name}[{extra}]", predicate, label))
        return deps
