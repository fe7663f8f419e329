"""Packaging scenarios: TOML files in ``packaging_scenarios/`` turned into real wheels on a real
local index, resolved in-process by `pipwise.resolve.resolver.resolve`.

The file format is documented in ``test_packaging_scenarios.py``.
"""

from __future__ import annotations

import logging
import re
import tomllib
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NotRequired, TypedDict, cast

from packaging.markers import default_environment
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from pipwise.dists import Resolution
from pipwise.errors import DiagnosticError
from pipwise.formats.requirements import RequestedRequirement, parse_file, parse_requirement
from pipwise.index.finder import Finder
from pipwise.net.http import HttpFetcher
from pipwise.prepare import Preparer
from pipwise.resolve.provider import InstalledPreference, ResolveOptions
from pipwise.resolve.resolver import resolve
from pipwise.target import Scheme, Target
from tests.support.index_server import Annotation, IndexServer
from tests.support.wheels import WheelSpec, build_sdist, build_wheel

__all__ = [
    "FORBIDDEN",
    "GROUPS",
    "SCENARIOS",
    "Outcome",
    "Scenario",
    "Served",
    "check_keys",
    "default_platforms",
    "load",
    "run",
    "serving",
    "target_for",
]

SCENARIOS = Path(__file__).parent / "packaging_scenarios"

#: File-name prefixes, one per group of cases.
GROUPS = (
    "backtrack",
    "conflict",
    "constraints",
    "cycle",
    "extras",
    "local",
    "markers",
    "misc",
    "names",
    "notfound",
    "post",
    "prerelease",
    "python",
    "sdist",
    "seed",
    "tags",
    "upgrade",
    "url",
    "yanked",
)

#: Never shown to a user, whatever the scenario says.
FORBIDDEN = ("root", "∅")

DEFAULT_PYTHON = "3.11.7"
#: The glibc of the default target (Ubuntu 22.04): manylinux_2_35 and older wheels fit.
DEFAULT_GLIBC_MINOR = 35


class PackageEntry(TypedDict):
    name: str
    version: str
    requires: NotRequired[list[str]]
    extras: NotRequired[list[str]]
    requires_python: NotRequired[str]
    index_requires_python: NotRequired[bool]
    tag: NotRequired[str]
    yanked: NotRequired[str | bool]
    url: NotRequired[bool]


class Options(TypedDict, total=False):
    pre: bool
    upgrade: bool
    upgrade_strategy: Literal["only-if-needed", "eager"]
    prerelease: Literal[
        "pip", "disallow", "allow", "if-necessary", "explicit", "if-necessary-or-explicit"
    ]
    no_deps: bool
    ignore_installed: bool
    reinstall: bool


class Change(TypedDict):
    """``details["change"]`` of a diagnosis (see `pipwise.resolve.explain.request_change`)."""

    replace: dict[str, str]
    add_flags: list[str]


class Expect(TypedDict, total=False):
    pins: dict[str, str]
    files: dict[str, str]
    error: str
    change: Change
    explanation_contains: list[str]
    explanation_excludes: list[str]
    status_contains: list[str]


class Scenario(TypedDict):
    description: str
    python: NotRequired[str]
    platforms: NotRequired[list[str]]
    markers: NotRequired[dict[str, str]]
    request: NotRequired[list[str]]
    requirements_file: NotRequired[str]
    constraints: NotRequired[list[str]]
    options: NotRequired[Options]
    installed: NotRequired[dict[str, str]]
    package: NotRequired[list[PackageEntry]]
    expect: Expect


_KEYS: Mapping[str, frozenset[str]] = {
    "scenario": frozenset(Scenario.__annotations__),
    "package": frozenset(PackageEntry.__annotations__),
    "options": frozenset(Options.__annotations__),
    "expect": frozenset(Expect.__annotations__),
    "change": frozenset(Change.__annotations__),
}


def check_keys(what: str, table: Mapping[str, object], allowed: Iterable[str], path: Path) -> None:
    """Unknown keys in a scenario's ``what`` table are typos: raise for them."""
    unknown = set(table) - set(allowed)
    if unknown:
        raise ValueError(f"{path.name}: unknown {what} key(s) {sorted(unknown)}")


def _check_keys(what: str, table: Mapping[str, object], path: Path) -> None:
    check_keys(what, table, _KEYS[what], path)


def load(path: Path) -> Scenario:
    """Read and sanity-check one scenario file (unknown keys are typos, so they are errors)."""
    with path.open("rb") as file:
        data = tomllib.load(file)
    _check_keys("scenario", data, path)
    for entry in data.get("package", []):
        _check_keys("package", entry, path)
    _check_keys("options", data.get("options", {}), path)
    _check_keys("expect", data["expect"], path)
    expect = data["expect"]
    if ("pins" in expect) == ("error" in expect):
        raise ValueError(f"{path.name}: [expect] needs exactly one of pins or error")
    if "change" in expect:
        _check_keys("change", expect["change"], path)
    if not data.get("request") and not data.get("requirements_file"):
        raise ValueError(f"{path.name}: needs request or requirements_file")
    return cast(Scenario, data)


# -- the target -------------------------------------------------------------------------


def default_platforms(arch: str = "x86_64", glibc_minor: int = DEFAULT_GLIBC_MINOR) -> list[str]:
    """Linux platform tags for glibc 2.``glibc_minor``, newest first, each legacy alias right
    after the ``manylinux_2_N`` tag it stands for (as `packaging.tags` orders them)."""
    legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
    platforms = []
    for minor in range(glibc_minor, 4, -1):
        platforms.append(f"manylinux_2_{minor}_{arch}")
        if minor in legacy:
            platforms.append(f"{legacy[minor]}_{arch}")
    return [*platforms, f"linux_{arch}"]


def target_for(
    python: str, platforms: Sequence[str] | None, markers: Mapping[str, str], root: Path
) -> Target:
    """A CPython ``python`` target on linux x86_64 (unless ``platforms``/``markers`` say
    otherwise), with tags computed by `packaging.tags` for that version."""
    version = Version(python)
    major, minor, micro = (*version.release, 0, 0)[:3]
    interpreter = f"cp{major}{minor}"
    platform_tags = list(platforms) if platforms else default_platforms()
    tags: tuple[Tag, ...] = (
        *cpython_tags((major, minor), abis=[interpreter], platforms=platform_tags),
        *compatible_tags((major, minor), interpreter=interpreter, platforms=platform_tags),
    )
    environment: dict[str, str] = {
        **cast(dict[str, str], default_environment()),
        "implementation_name": "cpython",
        "implementation_version": python,
        "os_name": "posix",
        "platform_machine": "x86_64",
        "platform_python_implementation": "CPython",
        "platform_system": "Linux",
        "python_full_version": python,
        "python_version": f"{major}.{minor}",
        "sys_platform": "linux",
        **markers,
    }
    prefix = str(root / "env")
    site = f"{prefix}/lib/python{major}.{minor}/site-packages"
    scheme = Scheme(
        purelib=site,
        platlib=site,
        scripts=f"{prefix}/bin",
        data=prefix,
        headers=f"{prefix}/include",
    )
    return Target(
        executable=f"{prefix}/bin/python",
        prefix=prefix,
        base_prefix=prefix,
        version=(major, minor, micro),
        version_string=python,
        implementation="cpython",
        is_venv=True,
        externally_managed=None,
        site_writable=True,
        markers=environment,
        tags=tags,
        scheme=scheme,
        user_scheme=None,
    )


# -- the index ---------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{url:([^}]+)\}")


def _key(name: str, version: str) -> str:
    return f"{canonicalize_name(name)}-{Version(version)}"


@dataclass
class Served:
    """The files of a scenario: on the index, or (``url = true``) only as direct files."""

    index_dir: Path
    direct_dir: Path
    annotations: dict[str, Annotation] = field(default_factory=dict)
    #: ``name-version`` (normalized) -> file URL of its first file.
    urls: dict[str, str] = field(default_factory=dict)

    def substitute(self, text: str) -> str:
        """``{url:NAME-VERSION}`` -> the file URL of that package's file."""

        def replace(match: re.Match[str]) -> str:
            name, _, version = match.group(1).rpartition("-")
            key = _key(name, version)
            if key not in self.urls:
                raise ValueError(f"no package {match.group(1)} for {match.group(0)}")
            return self.urls[key]

        return _PLACEHOLDER.sub(replace, text)


def _filename(entry: PackageEntry) -> str:
    if entry.get("tag") == "sdist":
        base = canonicalize_name(entry["name"]).replace("-", "_")
        return f"{base}-{entry['version']}.tar.gz"
    return WheelSpec(entry["name"], entry["version"], tag=entry.get("tag", "py3-none-any")).filename


def build_files(packages: Sequence[PackageEntry], root: Path) -> Served:
    """Build every package entry into a real wheel or sdist."""
    served = Served(index_dir=root / "index", direct_dir=root / "direct")
    served.index_dir.mkdir(parents=True)
    served.direct_dir.mkdir(parents=True)
    located: list[tuple[PackageEntry, Path]] = []
    for entry in packages:
        directory = served.direct_dir if entry.get("url") else served.index_dir
        path = directory / _filename(entry)
        if any(path == other for _, other in located):
            raise ValueError(f"two package entries make {path.name}")
        located.append((entry, path))
        served.urls.setdefault(_key(entry["name"], entry["version"]), path.as_uri())
    for entry, path in located:
        if entry.get("tag") == "sdist":
            build_sdist(entry["name"], entry["version"], path.parent)
        else:
            spec = WheelSpec(
                entry["name"],
                entry["version"],
                requires=[served.substitute(r) for r in entry.get("requires", [])],
                requires_python=entry.get("requires_python"),
                extras=entry.get("extras", []),
                tag=entry.get("tag", "py3-none-any"),
            )
            build_wheel(spec, path.parent)
        note: Annotation = {}
        if "requires_python" in entry and entry.get("index_requires_python", True):
            note["requires_python"] = entry["requires_python"]
        yanked = entry.get("yanked")
        if yanked is not None and yanked is not False:
            # An empty reason still means yanked (PEP 592), which the server writes for True.
            note["yanked"] = yanked or True
        if note:
            served.annotations[path.name] = note
    return served


@contextmanager
def serving(served: Served, *, metadata: bool) -> Iterator[IndexServer]:
    with IndexServer(served.index_dir, annotations=served.annotations, metadata=metadata) as server:
        yield server


def index_form(stem: str) -> tuple[Literal["html", "json"], bool]:
    """Which page form and whether PEP 658 metadata is offered, spread evenly (and stably) over
    the scenarios so every combination is exercised."""
    choice = zlib.crc32(stem.encode()) % 4
    return ("html" if choice % 2 == 0 else "json"), choice >= 2


# -- running -----------------------------------------------------------------------------


class _Collect(logging.Handler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextmanager
def _warnings_into(lines: list[str]) -> Iterator[None]:
    """Warnings pipwise logs count as status lines: a library may report either way."""
    handler = _Collect(lines)
    logger = logging.getLogger("pipwise")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


@dataclass
class Outcome:
    """What `resolve` did: a resolution or a diagnosis, plus the status lines it printed
    (and the warnings pipwise logged)."""

    resolution: Resolution | None
    error: DiagnosticError | None
    status: list[str]
    form: str
    served: Served

    def explanation(self) -> str:
        """cause, evidence and note of the diagnosis, one per line."""
        assert self.error is not None
        return "\n".join([self.error.cause, *self.error.evidence, self.error.note or ""])

    def shown(self) -> str:
        """Everything the user would read about the diagnosis (with the fix)."""
        assert self.error is not None
        return f"{self.explanation()}\n{self.error.fix or ''}"


def _requested(
    scenario: Scenario, served: Served, workdir: Path
) -> tuple[list[RequestedRequirement], bool]:
    """The request as the install command collects it: command line, ``-r``, then ``-c``."""
    requested = [parse_requirement(served.substitute(line)) for line in scenario.get("request", [])]
    pre = False
    if "requirements_file" in scenario:
        path = workdir / "requirements.txt"
        path.write_text(served.substitute(scenario["requirements_file"]))
        parsed = parse_file(Path("requirements.txt"))
        requested += parsed.requirements
        pre = parsed.pre
    if "constraints" in scenario:
        path = workdir / "constraints.txt"
        path.write_text("".join(served.substitute(c) + "\n" for c in scenario["constraints"]))
        requested += parse_file(Path("constraints.txt"), constraint=True).requirements
    return requested, pre


def _installed(scenario: Scenario, served: Served) -> dict[NormalizedName, InstalledPreference]:
    installed = {}
    for name, version in scenario.get("installed", {}).items():
        requires: list[str] = []
        for entry in scenario.get("package", []):
            same = _key(entry["name"], entry["version"]) == _key(name, version)
            if same and entry.get("tag") != "sdist":
                requires = [served.substitute(r) for r in entry.get("requires", [])]
                break
        installed[canonicalize_name(name)] = InstalledPreference(Version(version), tuple(requires))
    return installed


def run(path: Path, workdir: Path) -> Outcome:
    """Build, serve and resolve the scenario at ``path``; ``workdir`` must be the current
    directory (requirements files are read from there, as relative paths)."""
    scenario = load(path)
    served = build_files(scenario.get("package", []), workdir / "dists")
    python = scenario.get("python", DEFAULT_PYTHON)
    target = target_for(python, scenario.get("platforms"), scenario.get("markers", {}), workdir)
    requested, file_pre = _requested(scenario, served, workdir)
    raw = scenario.get("options", {})
    options = ResolveOptions(
        upgrade=raw.get("upgrade", False),
        upgrade_strategy=raw.get("upgrade_strategy", "only-if-needed"),
        pre=raw.get("pre", False) or file_pre,
        prerelease=raw.get("prerelease", "pip"),
        no_deps=raw.get("no_deps", False),
        reinstall=raw.get("reinstall", False),
        ignore_installed=raw.get("ignore_installed", False),
    )
    form, metadata = index_form(path.stem)
    status: list[str] = []
    with (
        _warnings_into(status),
        serving(served, metadata=metadata) as server,
        HttpFetcher(timeout=10, retries=0) as fetcher,
        Preparer(fetcher, workdir / "cache") as preparer,
    ):
        finder = Finder(
            fetcher,
            index_urls=[server.json_index_url if form == "json" else server.html_index_url],
            find_links=[],
            tags=target.tags,
            python_version=Version(python),
        )
        label = f"{form}{' + PEP 658' if metadata else ''}"
        try:
            resolution = resolve(
                requested,
                finder=finder,
                preparer=preparer,
                target=target,
                installed=_installed(scenario, served),
                options=options,
                status=status.append,
            )
        except DiagnosticError as error:
            return Outcome(None, error, status, label, served)
    return Outcome(resolution, None, status, label, served)
