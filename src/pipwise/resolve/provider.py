"""Python packaging semantics for the PubGrub solver: extras, markers, pre-releases, yanked
files, Requires-Python, installed versions and direct URLs, as answers to "which versions?"
and "what does this version need?"."""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal, Self

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import (
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from pipwise.dists import Candidate, DirectUrl
from pipwise.errors import DiagnosticError
from pipwise.index.collector import split_hash_fragment
from pipwise.index.finder import Finder, FindResult
from pipwise.prepare import Preparer
from pipwise.resolve.pubgrub import Dependency, Unavailable
from pipwise.target import MarkerError, Target

__all__ = [
    "PYTHON",
    "InstalledPreference",
    "PackageKey",
    "PackagingProvider",
    "ResolveOptions",
    "parse_filename",
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


def parse_filename(filename: str) -> tuple[NormalizedName, Version] | None:
    """The project and version a wheel or sdist file name states; None when it states none."""
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[:2]
        return parse_sdist_filename(filename)
    except ValueError:
        return None


class _Shared:
    """What a provider and the providers derived from it share (see
    `PackagingProvider.derive`): what was fetched, what was found unusable, and the
    background prefetch."""

    def __init__(self, *, prefetch: bool) -> None:
        self.lock = threading.Lock()
        self.packages: dict[NormalizedName, _Package] = {}
        #: Versions the solver could not use, with the reason, for the final report.
        self.unavailable: dict[tuple[NormalizedName, Version], str] = {}
        #: Names whose prefetch has been started: each is started once.
        self.submitted: set[NormalizedName] = set()
        self.pool = (
            ThreadPoolExecutor(max_workers=16, thread_name_prefix="pipwise-prefetch")
            if prefetch
            else None
        )


class PackagingProvider:
    """Answers the solver's questions from the finder, the preparer and the environment.

    A provider made by the constructor owns the prefetch threads and stops them on `close`
    (it is a context manager); providers made by `derive` share its state and own nothing.
    """

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
        shared: _Shared | None = None,
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
        #: merged specifier holds one and names one or admits no final release (found by a
        #: failed round; see `merged_view`).
        self.merged_pre = merged_pre
        #: Yanked versions pinned exactly by some requirement, so usable by all (PEP 592, pip).
        self.merged_pins = merged_pins
        #: Extras asked for that a version does not declare (pip ignores them with a warning).
        self.unknown_extras: set[tuple[NormalizedName, Version, str]] = set()
        #: Every specifier seen per name, for working out the merged view after a failure.
        self.specs_seen: dict[NormalizedName, set[SpecifierSet]] = {
            name: {spec} for name, (spec, _) in constraints.items()
        }
        # Requires-Python compares the release (pip uses sys.version_info[:3]), so a 3.13.0rc1
        # interpreter satisfies >=3.13.
        self.python = Version(".".join(map(str, target.version)))
        # Reading local files is CPU work that threads would only slow down (the GIL).
        self._owner = shared is None
        self._shared = shared if shared is not None else _Shared(prefetch=not finder.is_local)
        #: Versions the solver could not use, with the reason, for the final report.
        self.unavailable = self._shared.unavailable
        # The policy is fixed per provider, so each name's order and each requirement's
        # allowed versions are worked out once.
        self._ordered: dict[NormalizedName, tuple[Version, ...]] = {}
        self._allowed: dict[tuple[NormalizedName, SpecifierSet], frozenset[Version]] = {}

    def derive(
        self,
        *,
        options: ResolveOptions | None = None,
        merged_pre: frozenset[NormalizedName] | None = None,
        merged_pins: frozenset[tuple[NormalizedName, Version]] | None = None,
    ) -> PackagingProvider:
        """A provider like this one with some policy changed, sharing what was fetched and
        the prefetch threads (which only the provider that started them closes)."""
        return PackagingProvider(
            finder=self.finder,
            preparer=self.preparer,
            target=self.target,
            installed=self.installed,
            options=self.options if options is None else options,
            requested=self.requested,
            direct=self.direct,
            constraints=self.constraints,
            explicit_pre=self.explicit_pre,
            merged_pre=self.merged_pre if merged_pre is None else merged_pre,
            merged_pins=self.merged_pins if merged_pins is None else merged_pins,
            shared=self._shared,
        )

    def close(self) -> None:
        """Stop the prefetch threads, if this provider owns them. Work not started is
        dropped; nothing waits on it (the preparer memoizes what finished)."""
        if self._owner and self._shared.pool is not None:
            self._shared.pool.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- what exists ---------------------------------------------------------------------

    def package(self, name: NormalizedName) -> _Package:
        """The project's candidates, fetched once."""
        shared = self._shared
        with shared.lock:
            known = shared.packages.get(name)
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
            parsed = parse_filename(rejection.link.filename)
            if parsed is not None and parsed[1] not in package.by_version:
                with contextlib.suppress(InvalidSpecifier):
                    package.python_only.setdefault(parsed[1], SpecifierSet(spec))
        package.universe = sorted({*package.by_version, *package.python_only}, reverse=True)
        with shared.lock:
            return shared.packages.setdefault(name, package)

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
            return (self.python,)
        name, _ = split_key(key)
        ordered = self._ordered.get(name)
        if ordered is None:
            ordered = self._ordered.setdefault(name, self._order(name))
        return ordered

    def _order(self, name: NormalizedName) -> tuple[Version, ...]:
        ordered = list(self.package(name).universe)
        if self._prereleases_last(name):
            ordered.sort(key=lambda v: v.is_prerelease)  # stable: keeps newest-first within
        if self._keep_installed(name):
            current = self.installed[name].version
            ordered = [current, *(v for v in ordered if v != current)]
        constraint = self.constraints.get(name)
        if constraint is not None:
            ordered = [v for v in ordered if constraint[0].contains(v, prereleases=True)]
        return tuple(ordered)

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

    def allows(self, name: NormalizedName, spec: SpecifierSet) -> frozenset[Version]:
        """The versions of ``name`` a requirement with ``spec`` accepts, with the pre-release
        and yanked rules (worked out once per requirement; called from the solver's thread)."""
        key = (name, spec)
        allowed = self._allowed.get(key)
        if allowed is None:
            allowed = self._allowed[key] = self._allowed_versions(name, spec)
            self.specs_seen.setdefault(name, set()).add(spec)
        return allowed

    def _allowed_versions(self, name: NormalizedName, spec: SpecifierSet) -> frozenset[Version]:
        yanked = self.package(name).yanked
        exact = _is_exact_pin(spec)
        pre = self.allows_prereleases(name, spec)
        installed = self.installed.get(name)
        current = None if installed is None else installed.version

        def allowed(version: Version) -> bool:
            if version == current:
                # Installed, so usable even if yanked; and an installed pre-release satisfies
                # a specifier that would not pick it (PEP 440).
                return spec.contains(version, prereleases=True)
            if version in yanked and not exact and (name, version) not in self.merged_pins:
                return False
            return spec.contains(version, prereleases=pre)

        return frozenset(filter(allowed, self.versions(name)))

    # -- what a version needs -------------------------------------------------------------

    def candidate(self, name: NormalizedName, version: Version) -> Candidate | None:
        """The file that would be installed for ``version``: the best wheel that is not yanked
        (PEP 592 yanks files, not versions), else the best file."""
        files = self.package(name).by_version.get(version, [])
        return next((c for c in files if c.link.yanked is None), files[0] if files else None)

    def merged_view(self) -> tuple[set[NormalizedName], set[tuple[NormalizedName, Version]]]:
        """What pip's merging of all specifiers on a name would allow that the per-requirement
        rules did not: names whose merged specifier contains a pre-release and names one or
        admits no final release, and yanked versions some requirement pins exactly."""
        pre: set[NormalizedName] = set()
        pins: set[tuple[NormalizedName, Version]] = set()
        for name, specs in self.specs_seen.items():
            merged = SpecifierSet()
            for spec in specs:
                merged &= spec
            within = [v for v in self.versions(name) if merged.contains(v, prereleases=True)]
            if any(v.is_prerelease for v in within) and (
                merged.prereleases or all(v.is_prerelease for v in within)
            ):
                pre.add(name)
            yanked = self.package(name).yanked
            for spec in filter(_is_exact_pin, specs):
                pins |= {(name, v) for v in yanked if spec.contains(v, prereleases=True)}
        return pre, pins

    def holds_back_prereleases(self, name: NormalizedName) -> bool:
        """Whether a requirement seen on ``name`` would accept a pre-release that the policy
        kept out: only then can ``--pre`` change the outcome."""
        pre = [v for v in self.versions(name) if v.is_prerelease]
        return any(
            not self.allows_prereleases(name, spec)
            and any(spec.contains(v, prereleases=True) for v in pre)
            for spec in self.specs_seen.get(name, ())
        )

    def prefetch(self, names: Sequence[NormalizedName]) -> None:
        """Fetch pages and likely metadata in the background while the solver works (only
        from the network: see `_Shared`); each name once."""
        shared = self._shared
        if shared.pool is None:
            return
        with shared.lock:
            new = [n for n in names if n not in shared.submitted and n not in shared.packages]
            shared.submitted.update(new)
        for name in new:
            shared.pool.submit(self._prefetch_one, name)

    def _prefetch_one(self, name: NormalizedName) -> None:
        """Fire and forget: an error here surfaces again when the solver asks for the same."""
        versions = self.versions(name)
        candidate = self.candidate(name, versions[0]) if versions else None
        # A local wheel's metadata is CPU work (zip and email parsing): in a thread it only
        # competes for the GIL, so it is read when the solver asks. Remote files overlap.
        if candidate is not None and candidate.kind == "wheel" and not candidate.link.is_file_url:
            self.preparer.raw_metadata(candidate)

    def _python_dependency(self, spec: SpecifierSet) -> Dependency[PackageKey]:
        fits = spec.contains(self.python, prereleases=True)
        return Dependency(PYTHON, frozenset({self.python} if fits else ()), str(spec))

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
        # The universe is the versions with files, the python-only ones and the kept one.
        assert candidate is not None, f"{name} {version} has no file"
        if candidate.kind != "wheel":
            reason = "only a source distribution, and source builds are not supported yet"
            self.unavailable[(name, version)] = reason
            raise Unavailable(reason)
        raw = self.preparer.raw_metadata(candidate)
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
        applicable = [
            requirement
            for line in requirements
            if _may_apply(line, extra)
            and (requirement := self._applicable(name, version, line, extra)) is not None
        ]
        self.prefetch([canonicalize_name(r.name) for r in applicable])
        if extra is not None:
            deps.append(Dependency(name, frozenset({version}), f"=={version}"))
            self._note_unknown_extra(name, version, extra)
        for requirement in applicable:
            deps += self.requirement_dependencies(requirement, depender=f"{key} {version}")
        return deps

    def _applicable(
        self, name: NormalizedName, version: Version, line: str, extra: str | None
    ) -> Requirement | None:
        """A Requires-Dist line as a requirement, if it applies to the target (and to
        ``extra``); a line that cannot be read or evaluated makes the version unusable."""
        try:
            requirement = Requirement(line)
            applies = self.target.marker_applies(requirement.marker, extra or "")
        except InvalidRequirement:
            reason = f"its metadata has an invalid requirement {line!r}"
        except MarkerError as exc:
            reason = f"its metadata has a requirement whose {exc}"
        else:
            # An extra brings only the lines whose marker names it; the base package carries
            # the unconditional ones.
            wanted = applies and (extra is None or requirement.marker is not None)
            return requirement if wanted else None
        self.unavailable[(name, version)] = reason
        raise Unavailable(reason)

    def _note_unknown_extra(self, name: NormalizedName, version: Version, extra: str) -> None:
        candidate = self.candidate(name, version)
        if candidate is None or candidate.kind != "wheel" or self._keep_installed(name):
            return
        declared = self.preparer.raw_metadata(candidate).get("provides_extra", [])
        if extra not in {canonicalize_name(e) for e in declared}:
            self.unknown_extras.add((name, version, extra))

    def requirement_dependencies(
        self, requirement: Requirement, *, depender: str
    ) -> list[Dependency[PackageKey]]:
        """A requirement of ``depender`` (``"app 1.0"``) as solver dependencies: the package,
        plus one per extra."""
        name = canonicalize_name(requirement.name)
        if requirement.url:
            self._check_url(name, requirement.url, f"{depender} depends on {requirement}")
        spec = requirement.specifier
        label = str(spec) or "any version"
        allowed = self.allows(name, spec)
        deps: list[Dependency[PackageKey]] = [Dependency(name, allowed, label)]
        for extra in sorted(canonicalize_name(e) for e in requirement.extras):
            deps.append(Dependency(f"{name}[{extra}]", allowed, label))
        return deps

    def _check_url(self, name: NormalizedName, url: str, asked: str) -> None:
        """A dependency's URL is honoured only when the user named the same one."""
        direct = self.direct.get(name)
        if direct is None:
            raise DiagnosticError(
                "direct-url-dependency",
                "resolution",
                f"a dependency asks for {name} from a URL ({url})",
                evidence=(asked,),
                note="URL dependencies of packages are only honoured when you name the same URL "
                f"yourself: add '{name} @ {url}' to the requirements you install",
            )
        if split_hash_fragment(url)[0] != direct.link.url:
            raise DiagnosticError(
                "conflicting-urls",
                "resolution",
                f"{name} is asked for from two different URLs",
                evidence=(f"{direct.link.comes_from} asks for {name} @ {direct.link.url}", asked),
                note=f"only one file can be installed for {name}: name the URL the dependency "
                "needs, or a version of the depending package that does not ask for a URL",
            )
