"""The interpreter probe: a stdlib-only script that reports a Python's facts as one JSON object.

Run as ``<python> -I probe.py`` inside the target interpreter (CPython 3.8 to 3.13, and
other implementations of those versions). It must stay importable and runnable there
unchanged: no pipwise or third-party imports, no syntax newer than 3.8. The output keys
are the contract read by `pipwise.env.interpreters`; bump `PROBE_VERSION` on any change.
"""

from __future__ import annotations

import configparser
import importlib.machinery
import json
import os
import platform
import re
import struct
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

PROBE_VERSION = 1

# pip's wording when the EXTERNALLY-MANAGED file has no usable Error key (PEP 668).
_DEFAULT_EXTERNALLY_MANAGED = (
    "The Python environment under {prefix} is managed externally, and may not be "
    "manipulated by the user. Please use specific tooling from the distributor of the "
    "Python installation to interact with this environment instead."
)

_SCHEME_KEYS = (
    ("purelib", "purelib"),
    ("platlib", "platlib"),
    ("scripts", "scripts"),
    ("data", "data"),
    ("headers", "include"),
)


def _scheme(paths: dict[str, str]) -> dict[str, str]:
    return {ours: paths[theirs] for ours, theirs in _SCHEME_KEYS}


def _user_scheme_name() -> str:
    # sysconfig.get_preferred_scheme exists from 3.10; mirror its choice before that.
    get_preferred = getattr(sysconfig, "get_preferred_scheme", None)
    if get_preferred is not None:
        return str(get_preferred("user"))
    if os.name == "nt":
        return "nt_user"
    if sys.platform == "darwin" and sysconfig.get_config_var("PYTHONFRAMEWORK"):
        return "osx_framework_user"
    return "posix_user"


def _externally_managed(is_venv: bool) -> str | None:
    # https://peps.python.org/pep-0668/#marking-an-interpreter-as-using-an-external-package-manager
    if is_venv:
        return None
    marker = Path(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")
    if not marker.is_file():
        return None
    default = _DEFAULT_EXTERNALLY_MANAGED.format(prefix=sys.prefix)
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(marker, encoding="utf-8")
        return parser.get("externally-managed", "Error", fallback=default) or default
    except (configparser.Error, OSError, UnicodeDecodeError):
        return default


def _site_writable(purelib: str) -> bool:
    path = Path(purelib)
    while not path.is_dir() and path.parent != path:
        path = path.parent
    return os.access(path, os.W_OK)


def _format_full_version(info: Any) -> str:
    version = f"{info.major}.{info.minor}.{info.micro}"
    if info.releaselevel != "final":
        version += info.releaselevel[0] + str(info.serial)
    return version


def _markers() -> dict[str, str]:
    # The same keys and values as packaging.markers.default_environment().
    return {
        "implementation_name": sys.implementation.name,
        "implementation_version": _format_full_version(sys.implementation.version),
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }


def _glibc_version() -> str | None:
    try:
        # e.g. "glibc 2.36"; raises or returns None off glibc.
        found = os.confstr("CS_GNU_LIBC_VERSION")
    except (AttributeError, OSError, ValueError):
        found = None
    if found and found.startswith("glibc "):
        return found.split()[1]
    libc, version = platform.libc_ver()
    return version if libc == "glibc" and version else None


def _musl_version() -> str | None:
    # musl's dynamic loader prints "Version X.Y.Z" on stderr when run without arguments.
    for loader in sorted(Path("/lib").glob("ld-musl-*.so.1")):
        try:
            run = subprocess.run(
                [loader], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=5
            )
        except (OSError, subprocess.SubprocessError):
            continue
        match = re.search(rb"Version (\d+)\.(\d+)", run.stderr)
        if match:
            return f"{int(match.group(1))}.{int(match.group(2))}"
    return None


def _config_flag(name: str) -> bool | None:
    value = sysconfig.get_config_var(name)
    return None if value is None else bool(value)


def probe() -> dict[str, Any]:
    """Collect the facts pipwise needs about the running interpreter."""
    is_venv = sys.prefix != sys.base_prefix
    scheme = _scheme(sysconfig.get_paths())
    linux = sys.platform.startswith("linux")
    glibc = _glibc_version() if linux else None
    return {
        "probe_version": PROBE_VERSION,
        "executable": sys.executable,
        "prefix": sys.prefix,
        "base_prefix": sys.base_prefix,
        "version_info": list(sys.version_info[:3]),
        "version_string": platform.python_version(),
        "implementation": sys.implementation.name,
        "is_venv": is_venv,
        "externally_managed": _externally_managed(is_venv),
        "scheme": scheme,
        "user_scheme": _scheme(sysconfig.get_paths(_user_scheme_name())),
        # Under -I site.ENABLE_USER_SITE is False; outside -I it is on unless in a venv.
        "user_site_enabled": not is_venv,
        "site_writable": _site_writable(scheme["purelib"]),
        # Under -I neither the script's directory nor the user site is on sys.path.
        "sys_path": [entry for entry in sys.path if entry],
        "markers": _markers(),
        "platform": sysconfig.get_platform(),
        "soabi": sysconfig.get_config_var("SOABI"),
        "ext_suffix": sysconfig.get_config_var("EXT_SUFFIX"),
        "extension_suffixes": list(importlib.machinery.EXTENSION_SUFFIXES),
        "py_version_nodot": sysconfig.get_config_var("py_version_nodot"),
        "py_gil_disabled": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "py_debug": _config_flag("Py_DEBUG"),
        "has_gettotalrefcount": hasattr(sys, "gettotalrefcount"),
        "glibc_version": glibc,
        "musl_version": _musl_version() if linux and glibc is None else None,
        "pointer_bits": struct.calcsize("P") * 8,
        "macos_version": (platform.mac_ver()[0] or None) if sys.platform == "darwin" else None,
    }


if __name__ == "__main__":
    json.dump(probe(), sys.stdout)
    sys.stdout.write("\n")
