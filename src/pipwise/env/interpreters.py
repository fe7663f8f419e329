"""Finding Python interpreters and describing them as `Target`s, via the cached probe."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from packaging.tags import (
    INTERPRETER_SHORT_NAMES,
    Tag,
    compatible_tags,
    cpython_tags,
    generic_tags,
    mac_platforms,
)

from pipwise.env.probe import PROBE_VERSION
from pipwise.errors import DiagnosticError
from pipwise.target import Scheme, Target

__all__ = [
    "PROBE_PATH",
    "discover_interpreters",
    "find_interpreter",
    "inspect_interpreter",
    "venv_python",
]

logger = logging.getLogger(__name__)

#: The stdlib-only script run inside each target interpreter.
PROBE_PATH = Path(__file__).with_name("probe.py")
PROBE_TIMEOUT = 30.0
MIN_VERSION = (3, 8)

_VERSION_REQUEST = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?$")
_VERSIONED_NAME = re.compile(r"^python(\d+)\.(\d+)$")
_PYENV_VERSION_DIR = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
_SYSTEM_DIRS = (Path("/usr/local/bin"), Path("/usr/bin"))
_QUERY_VERSION = "import sys; sys.stdout.write('%d.%d.%d' % sys.version_info[:3])"


class _SchemePaths(TypedDict):
    purelib: str
    platlib: str
    scripts: str
    data: str
    headers: str


class ProbeFacts(TypedDict):
    """The probe's JSON output (see `pipwise.env.probe`)."""

    probe_version: int
    executable: str
    prefix: str
    base_prefix: str
    version_info: list[int]
    version_string: str
    implementation: str
    is_venv: bool
    externally_managed: str | None
    scheme: _SchemePaths
    user_scheme: _SchemePaths
    user_site_enabled: bool
    site_writable: bool
    sys_path: list[str]
    markers: dict[str, str]
    platform: str
    soabi: str | None
    ext_suffix: str | None
    extension_suffixes: list[str]
    py_version_nodot: str | None
    py_gil_disabled: bool
    py_debug: bool | None
    has_gettotalrefcount: bool
    glibc_version: str | None
    musl_version: str | None
    pointer_bits: int
    macos_version: str | None


def venv_python(venv: Path) -> Path:
    """The interpreter of the virtual environment rooted at ``venv``."""
    if os.name == "nt":
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


# -- inspecting one interpreter ------------------------------------------------------------


def inspect_interpreter(
    executable: str | os.PathLike[str], *, cache_dir: Path | None = None
) -> Target:
    """Describe the interpreter at ``executable`` as a `Target`, probing it at most once.

    With a ``cache_dir`` the probe's answer is kept under ``cache_dir/interpreter-v1/``,
    keyed by the interpreter file and its ``pyvenv.cfg``, so a rebuilt interpreter or venv is
    re-probed; without one (``--no-cache-dir``) nothing is written.
    """
    path = Path(executable).absolute()
    _check_executable(path)
    entry = None
    if cache_dir is not None:
        entry = cache_dir / "interpreter-v1" / f"{_cache_key(path)}.json"
        try:
            return _target(path, json.loads(entry.read_text(encoding="utf-8")))
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
            logger.debug("ignoring unreadable interpreter cache entry %s: %s", entry, exc)
    facts = _run_probe(path)
    target = _target(path, facts)
    # A wrapper such as a pyenv shim decides at each run which Python it starts: never cache it.
    if entry is not None and os.path.realpath(path) == os.path.realpath(facts["executable"]):
        _write_atomic(entry, json.dumps(facts))
    return target


def _check_executable(path: Path) -> None:
    if path.is_symlink() and not path.exists():
        raise DiagnosticError(
            "broken-interpreter",
            "environment",
            f"{path} is a link to an interpreter that no longer exists",
            evidence=(f"{path} -> {path.readlink()}",),
            fix=_recreate_fix(path),
            note="This happens to a virtual environment whose base Python was removed.",
        )
    if not path.is_file() or not os.access(path, os.X_OK):
        cause = "does not exist" if not path.exists() else "is not an executable file"
        raise DiagnosticError(
            "interpreter-not-found",
            "environment",
            f"{path} {cause}",
            evidence=(f"looked for an interpreter at {path}",),
            fix=None,
            note="Name an existing interpreter with --python PATH or --python X.Y.",
        )


def _recreate_fix(path: Path) -> str | None:
    for venv in (path.parent, path.parent.parent):
        if (venv / "pyvenv.cfg").is_file():
            return f"pipwise venv --clear {venv}"
    return None


def _pyvenv_cfg_mtime(path: Path) -> int | None:
    for candidate in (path.parent / "pyvenv.cfg", path.parent.parent / "pyvenv.cfg"):
        try:
            return candidate.stat().st_mtime_ns
        except OSError:
            continue
    return None


def _cache_key(path: Path) -> str:
    real = os.path.realpath(path)
    stat = Path(real).stat()
    material = [
        real,
        str(path),
        stat.st_mtime_ns,
        stat.st_size,
        _pyvenv_cfg_mtime(path),
        PROBE_VERSION,
        # What this user may write (site_writable) is part of the answer.
        os.geteuid() if hasattr(os, "geteuid") else None,
    ]
    return hashlib.sha256(json.dumps(material).encode()).hexdigest()


def _write_atomic(entry: Path, text: str) -> None:
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=entry.parent, suffix=".tmp", delete=False
        ) as tmp:
            tmp.write(text)
        Path(tmp.name).replace(entry)
    except OSError as exc:
        logger.debug("could not write interpreter cache entry %s: %s", entry, exc)


def _tail(text: str, lines: int = 10) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _run_probe(path: Path) -> ProbeFacts:
    command = [str(path), "-I", str(PROBE_PATH)]
    try:
        run = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=PROBE_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise _broken(path, f"the probe did not finish within {PROBE_TIMEOUT:.0f} s") from exc
    except OSError as exc:
        raise _broken(path, f"it could not be started: {exc}") from exc
    if run.returncode != 0:
        version = _query_version(path)
        if version is not None and version < MIN_VERSION:
            raise _unsupported(path, version)
        raise _broken(path, f"the probe exited with status {run.returncode}", run.stderr)
    try:
        facts: ProbeFacts = json.loads(run.stdout)
        version = tuple(facts["version_info"])
    except (ValueError, KeyError, TypeError) as exc:
        raise _broken(path, f"its output is not the probe's JSON: {exc}", run.stderr) from exc
    if version < MIN_VERSION:
        raise _unsupported(path, version)
    return facts


def _unsupported(path: Path, version: tuple[int, ...]) -> DiagnosticError:
    dotted = ".".join(map(str, version))
    return DiagnosticError(
        "interpreter-unsupported",
        "environment",
        f"{path} is Python {dotted}; pipwise needs Python 3.8 or newer",
        evidence=(f"{path} reports version {dotted}",),
        fix=None,
        note="Choose a Python 3.8 or newer with --python PATH or --python X.Y.",
    )


def _broken(path: Path, why: str, stderr: str = "") -> DiagnosticError:
    evidence = [f"ran {path} -I {PROBE_PATH}: {why}"]
    if stderr.strip():
        evidence.append(_tail(stderr))
    return DiagnosticError(
        "broken-interpreter",
        "environment",
        f"{path} could not be inspected: {why}",
        evidence=tuple(evidence),
        fix=_recreate_fix(path),
    )


def _query_version(path: Path) -> tuple[int, ...] | None:
    """The interpreter's ``X.Y.Z``, asked in a way any Python (even 2.7) answers."""
    try:
        run = subprocess.run(
            [str(path), "-c", _QUERY_VERSION],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", run.stdout.strip())
    return tuple(map(int, match.groups())) if run.returncode == 0 and match else None


def _scheme(paths: _SchemePaths) -> Scheme:
    return Scheme(
        purelib=paths["purelib"],
        platlib=paths["platlib"],
        scripts=paths["scripts"],
        data=paths["data"],
        headers=paths["headers"],
    )


def _target(path: Path, facts: ProbeFacts) -> Target:
    if facts["probe_version"] != PROBE_VERSION:
        raise ValueError(f"probe version {facts['probe_version']} != {PROBE_VERSION}")
    major, minor, micro = facts["version_info"]
    same = os.path.realpath(path) == os.path.realpath(facts["executable"])
    return Target(
        executable=str(path) if same else facts["executable"],
        prefix=facts["prefix"],
        base_prefix=facts["base_prefix"],
        version=(major, minor, micro),
        version_string=facts["version_string"],
        implementation=facts["implementation"],
        is_venv=facts["is_venv"],
        externally_managed=facts["externally_managed"],
        site_writable=facts["site_writable"],
        markers=dict(facts["markers"]),
        tags=tuple(_tags(facts)),
        scheme=_scheme(facts["scheme"]),
        user_scheme=_scheme(facts["user_scheme"]) if facts["user_site_enabled"] else None,
        sys_path=tuple(facts["sys_path"]),
    )


# -- wheel tags from the probe's facts ---------------------------------------------------


def _normalize(text: str) -> str:
    return text.replace(".", "_").replace("-", "_").replace(" ", "_")


def _manylinux_platforms(glibc: str, archs: list[str]) -> Iterator[str]:
    # Mirrors packaging/_manylinux.py platform_tags() for glibc 2.x: newest first, each
    # legacy alias right after the manylinux_2_N tag it stands for.
    legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
    major, minor = (int(part) for part in glibc.split(".")[:2])
    if major != 2:
        return
    oldest = 5 if {"x86_64", "i686"} & set(archs) else 17
    for arch in archs:
        for glibc_minor in range(minor, oldest - 1, -1):
            yield f"manylinux_2_{glibc_minor}_{arch}"
            if glibc_minor in legacy:
                yield f"{legacy[glibc_minor]}_{arch}"


def _linux_platforms(facts: ProbeFacts, linux: str) -> list[str]:
    if facts["pointer_bits"] == 32:
        linux = {"linux_x86_64": "linux_i686", "linux_aarch64": "linux_armv8l"}.get(linux, linux)
    arch = linux.removeprefix("linux_")
    archs = ["armv8l", "armv7l"] if arch == "armv8l" else [arch]
    platforms: list[str] = []
    if facts["glibc_version"]:
        platforms.extend(_manylinux_platforms(facts["glibc_version"], archs))
    if musl := facts["musl_version"]:
        musl_major, musl_minor = (int(part) for part in musl.split(".")[:2])
        platforms.extend(
            f"musllinux_{musl_major}_{minor}_{arch}"
            for arch in archs
            for minor in range(musl_minor, -1, -1)
        )
    platforms.extend(f"linux_{arch}" for arch in archs)
    return platforms


def _platforms(facts: ProbeFacts) -> list[str]:
    platform = _normalize(facts["platform"])
    if facts["markers"]["sys_platform"] == "darwin" and facts["macos_version"]:
        major, minor = ([int(part) for part in facts["macos_version"].split(".")] + [0])[:2]
        arch = facts["markers"]["platform_machine"]
        if facts["pointer_bits"] == 32:
            arch = "ppc" if arch.startswith("ppc") else "i386"
        return list(mac_platforms((major, minor), arch))
    if platform.startswith("linux_"):
        return _linux_platforms(facts, platform)
    return [platform]


def _cpython_abis(facts: ProbeFacts, nodot: str) -> list[str]:
    # Mirrors packaging.tags._cpython_abis() for Python >= 3.8.
    debug = facts["py_debug"]
    if debug is None:
        debug = facts["has_gettotalrefcount"] or "_d.pyd" in facts["extension_suffixes"]
    threading = "t" if facts["py_gil_disabled"] and facts["version_info"][:2] >= [3, 13] else ""
    if debug:
        return [f"cp{nodot}{threading}d", f"cp{nodot}{threading}"]
    return [f"cp{nodot}{threading}"]


def _generic_abis(facts: ProbeFacts) -> list[str]:
    # Mirrors packaging.tags._generic_abi() for non-CPython interpreters, e.g.
    # ".pypy310-pp73-x86_64-linux-gnu.so" -> pypy310_pp73.
    parts = (facts["ext_suffix"] or "").split(".")
    if len(parts) < 3 or not parts[1]:
        return []
    soabi = parts[1]
    keep = 3 if soabi.startswith("graalpy") else 2 if soabi.startswith("pypy") else None
    return [_normalize("-".join(soabi.split("-")[:keep]))]


def _tags(facts: ProbeFacts) -> Iterator[Tag]:
    python_version = (facts["version_info"][0], facts["version_info"][1])
    nodot = facts["py_version_nodot"] or f"{python_version[0]}{python_version[1]}"
    platforms = _platforms(facts)
    name = facts["implementation"]
    if name == "cpython":
        yield from cpython_tags(python_version, _cpython_abis(facts, nodot), platforms)
        interpreter: str | None = f"cp{nodot}"
    else:
        short = INTERPRETER_SHORT_NAMES.get(name, name)
        yield from generic_tags(f"{short}{nodot}", _generic_abis(facts), platforms)
        interpreter = "pp3" if short == "pp" else None
    yield from compatible_tags(python_version, interpreter, platforms)


# -- finding interpreters ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Found:
    path: Path
    #: ``(X, Y)`` from a ``pythonX.Y`` file name, or ``(X, Y, Z)`` from a pyenv directory.
    version: tuple[int, ...]


def _pyenv_root(environ: Mapping[str, str]) -> Path:
    if root := environ.get("PYENV_ROOT"):
        return Path(root)
    home = environ.get("HOME")
    return (Path(home) if home else Path.home()) / ".pyenv"


def _search_dirs(environ: Mapping[str, str]) -> list[tuple[Path, tuple[int, ...] | None]]:
    """Where interpreters are looked for, in order, with the version a pyenv directory names.

    A shim (pyenv, asdf) may start a version other than its name says, or refuse, so shim
    directories are not searched; pyenv's own versions stand where its shims stand on PATH
    (the user put them before what follows), or after PATH when its shims are not on it.
    """
    pyenv_root = _pyenv_root(environ)
    pyenv_versions: list[tuple[tuple[int, ...], Path]] = []
    try:
        for child in (pyenv_root / "versions").iterdir():
            if match := _PYENV_VERSION_DIR.match(child.name):
                pyenv_versions.append((tuple(map(int, match.groups())), child / "bin"))
    except OSError:
        pass
    pyenv_dirs: list[tuple[Path, tuple[int, ...] | None]] = [
        (bin_dir, version) for version, bin_dir in sorted(pyenv_versions, reverse=True)
    ]
    dirs: list[tuple[Path, tuple[int, ...] | None]] = []
    for entry in environ.get("PATH", "").split(os.pathsep):
        if not entry:
            continue
        if Path(entry) == pyenv_root / "shims":
            dirs.extend(pyenv_dirs)
        elif Path(entry).name != "shims":
            dirs.append((Path(entry), None))
    dirs.extend(pyenv_dirs)
    dirs.extend((system_dir, None) for system_dir in _SYSTEM_DIRS)
    unique: dict[Path, tuple[int, ...] | None] = {}
    for directory, version in dirs:
        unique.setdefault(directory, version)
    return list(unique.items())


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _found(environ: Mapping[str, str]) -> Iterator[_Found]:
    """Every ``pythonX.Y`` in the search directories, in search order."""
    for directory, pyenv_version in _search_dirs(environ):
        try:
            names = sorted(child.name for child in directory.iterdir())
        except OSError:
            continue
        for name in names:
            match = _VERSIONED_NAME.match(name)
            if not match or not _is_executable(directory / name):
                continue
            version = tuple(map(int, match.groups()))
            if pyenv_version is None:
                yield _Found(directory / name, version)
            elif pyenv_version[:2] == version:
                yield _Found(directory / name, pyenv_version)


def discover_interpreters(environ: Mapping[str, str] | None = None) -> list[Path]:
    """The distinct interpreters (real paths) on PATH, in pyenv and in the system directories."""
    environ = os.environ if environ is None else environ
    seen: dict[str, None] = {}
    for found in _found(environ):
        seen.setdefault(os.path.realpath(found.path))
    return [Path(real) for real in seen]


def find_interpreter(request: str, *, environ: Mapping[str, str] | None = None) -> Path:
    """Resolve ``--python`` style requests to an interpreter path.

    ``request`` is a path (an interpreter, or a virtual environment directory), a version
    (``3.12`` or ``3.12.1``) or a command name (``python3.12``). Versions and commands are
    searched on PATH (skipping shim directories), then in pyenv's versions, then in
    ``/usr/local/bin`` and ``/usr/bin``.
    """
    environ = os.environ if environ is None else environ
    if match := _VERSION_REQUEST.match(request):
        wanted = tuple(int(part) for part in match.groups() if part is not None)
        for found in _found(environ):
            if found.version[:2] != wanted[:2]:
                continue
            if len(wanted) == 2:
                return found.path
            actual = found.version if len(found.version) == 3 else _query_version(found.path)
            if actual == wanted:
                return found.path
        raise _not_found(request, environ)
    if os.sep in request or (os.altsep and os.altsep in request) or request.startswith("~"):
        path = Path(request).expanduser()
    elif Path(request).is_dir():
        path = Path(request)
    else:
        for directory, _ in _search_dirs(environ):
            if _is_executable(directory / request):
                return directory / request
        raise _not_found(request, environ)
    path = path.absolute()
    return venv_python(path) if path.is_dir() else path


def _not_found(request: str, environ: Mapping[str, str]) -> DiagnosticError:
    dirs = [str(directory) for directory, _ in _search_dirs(environ)]
    versions = sorted({found.version for found in _found(environ)})
    labels = ", ".join(".".join(map(str, version)) for version in versions) or "none"
    pyenv = _pyenv_root(environ)
    wanted = _VERSION_REQUEST.match(request)
    return DiagnosticError(
        "interpreter-not-found",
        "environment",
        f"No Python interpreter matches {request!r}",
        evidence=(
            f"looked in: {', '.join(dirs)} (PATH shim directories skipped)",
            f"versions found: {labels}",
        ),
        fix=f"pyenv install {request}" if wanted and pyenv.is_dir() else None,
        note="Or name an interpreter by path: --python /path/to/python",
        details={"searched": dirs, "found": [list(version) for version in versions]},
    )
