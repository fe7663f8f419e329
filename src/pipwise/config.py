"""Settings from pip's configuration files, ``PIP_*``/``PIPWISE_*`` variables and the command line.

Precedence, lowest first, as in pip: global files, user files, ``PIP_CONFIG_FILE``; then
``PIP_*`` variables, then ``PIPWISE_*`` variables, then command-line options. Within a file,
the ``[install]`` (command) section overrides ``[global]``. Every value remembers where it came
from, so diagnoses can say which file, variable or flag to change.
"""

from __future__ import annotations

import configparser
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pipwise.errors import DiagnosticError

__all__ = ["DEFAULT_INDEX_URL", "IndexStrategy", "Settings", "config_files", "load_settings"]

DEFAULT_INDEX_URL = "https://pypi.org/simple"

IndexStrategy = Literal["first-index", "unsafe-best-match"]

#: Option names as pip spells them in files (``index-url``) -> Settings field.
_KEYS: dict[str, str] = {
    "index-url": "index_url",
    "extra-index-url": "extra_index_urls",
    "find-links": "find_links",
    "no-index": "no_index",
    "cert": "cert",
    "client-cert": "client_cert",
    "timeout": "timeout",
    "default-timeout": "timeout",
    "retries": "retries",
    "trusted-host": "trusted_hosts",
    "proxy": "proxy",
    "pre": "pre",
    "no-cache-dir": "no_cache",
    "index-strategy": "index_strategy",
}
_LISTS = frozenset({"extra_index_urls", "find_links", "trusted_hosts"})
_BOOLS = frozenset({"no_index", "pre", "no_cache"})
_TRUE = frozenset({"1", "true", "yes", "on", "y", "t"})
_FALSE = frozenset({"0", "false", "no", "off", "n", "f", ""})


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the network and index layers need, already merged."""

    index_url: str = DEFAULT_INDEX_URL
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    cert: str | None = None
    client_cert: str | None = None
    timeout: float = 15.0
    retries: int = 3
    trusted_hosts: tuple[str, ...] = ()
    proxy: str | None = None
    pre: bool = False
    #: pipwise's cache (``--cache-dir`` or ``PIPWISE_CACHE_DIR``); None for the platform default.
    cache_dir: str | None = None
    no_cache: bool = False
    index_strategy: IndexStrategy = "first-index"
    #: Settings field -> where its value came from ("/etc/pip.conf [global]", "PIP_INDEX_URL",
    #: "--index-url"). Fields left at their default are absent.
    origins: Mapping[str, str] = field(default_factory=dict)

    @property
    def index_urls(self) -> tuple[str, ...]:
        """The indexes to consult, in order; empty with ``--no-index``."""
        if self.no_index:
            return ()
        return (self.index_url, *self.extra_index_urls)


def config_files(environ: Mapping[str, str]) -> list[Path]:
    """pip's configuration files that apply, lowest precedence first (existing or not)."""
    env_file = environ.get("PIP_CONFIG_FILE")
    if env_file == os.devnull:
        return []
    xdg_dirs = environ.get("XDG_CONFIG_DIRS") or "/etc/xdg"
    files = [Path(d) / "pip" / "pip.conf" for d in xdg_dirs.split(os.pathsep) if d]
    files.append(Path("/etc/pip.conf"))
    load_user = not (env_file and Path(env_file).exists())
    if load_user:
        home = Path(environ.get("HOME") or Path.home())
        xdg_home = Path(environ.get("XDG_CONFIG_HOME") or home / ".config")
        files += [home / ".pip" / "pip.conf", xdg_home / "pip" / "pip.conf"]
    if env_file:
        files.append(Path(env_file))
    return files


def load_settings(
    cli: Mapping[str, object],
    environ: Mapping[str, str],
    *,
    command: str = "install",
) -> Settings:
    """Merge configuration for ``command``; ``cli`` holds only options the user actually gave.

    ``cli`` keys are Settings field names; values are already typed (lists for list fields).
    """
    raw: dict[str, object] = {}
    origins: dict[str, str] = {}
    for path in config_files(environ):
        for key, (value, where) in _read_file(path, command).items():
            _assign(raw, origins, key, value, where)
    for prefix in ("PIP_", "PIPWISE_"):
        for option, key in _KEYS.items():
            name = prefix + option.upper().replace("-", "_")
            if name in environ:
                _assign(raw, origins, key, environ[name], name)
    # pip's cache-dir names pip's own cache, whose layout is not ours: only PIPWISE_CACHE_DIR.
    if environ.get("PIPWISE_CACHE_DIR"):
        _assign(raw, origins, "cache_dir", environ["PIPWISE_CACHE_DIR"], "PIPWISE_CACHE_DIR")
    for field_name, given in cli.items():
        if given is not None:
            raw[field_name] = given
            origins[field_name] = "--" + _flag_for(field_name)
    _check_merged(raw, origins)
    return Settings(**raw, origins=origins)  # type: ignore[arg-type]


def _check_merged(raw: dict[str, object], origins: Mapping[str, str]) -> None:
    """Checks of the merged values, whichever source gave them (flags arrive already typed,
    past `_convert`); index paths become ``file://`` URLs, as pip accepts a directory."""
    timeout = raw.get("timeout")
    if isinstance(timeout, int | float) and not (math.isfinite(timeout) and timeout > 0):
        raise _bad_value(
            "timeout", str(timeout), origins["timeout"], "a positive number of seconds"
        )
    retries = raw.get("retries")
    if isinstance(retries, int) and retries < 0:
        raise _bad_value("retries", str(retries), origins["retries"], "a whole number, 0 or more")
    if raw.get("no_index") is True:
        return  # indexes that will not be read need not exist
    if isinstance(raw.get("index_url"), str):
        raw["index_url"] = _index_location(str(raw["index_url"]), origins["index_url"])
    extra = raw.get("extra_index_urls")
    if isinstance(extra, tuple | list):
        where = origins["extra_index_urls"]
        raw["extra_index_urls"] = tuple(_index_location(str(url), where) for url in extra)


def _index_location(value: str, where: str) -> str:
    """An index given as a URL, or as a directory laid out like one (made a ``file://`` URL)."""
    if "://" in value or value.startswith("file:"):
        return value
    path = Path(value).expanduser()
    if path.is_dir():
        return path.resolve().as_uri()
    raise DiagnosticError(
        "invalid-index-url",
        "usage",
        f"index {value!r} is neither a URL nor an existing directory",
        evidence=(f"set in {where}", f"no directory {path.absolute()}"),
        note="An index is a URL (https://host/simple) or a local directory laid out like one "
        "(PEP 503); correct or remove the setting where it was made.",
        details={"url": value, "origin": where},
    )


def _flag_for(key: str) -> str:
    if key == "cache_dir":
        return "cache-dir"
    for option, field_name in _KEYS.items():
        if field_name == key:
            return option
    return key.replace("_", "-")


def _read_file(path: Path, command: str) -> dict[str, tuple[str, str]]:
    if not path.is_file():
        return {}
    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError, OSError) as exc:
        raise DiagnosticError(
            "invalid-config-file",
            "usage",
            f"pip configuration file {path} cannot be read",
            evidence=(str(exc),),
            note=f"Correct the syntax of {path} (an INI file) or remove it.",
        ) from exc
    found: dict[str, tuple[str, str]] = {}
    for section in ("global", command):
        if parser.has_section(section):
            for option, value in parser.items(section):
                if option in _KEYS:
                    found[option] = (value, f"{path} [{section}]")
    return found


def _assign(
    raw: dict[str, object], origins: dict[str, str], option_or_key: str, value: str, where: str
) -> None:
    key = _KEYS.get(option_or_key, option_or_key)
    raw[key] = _convert(key, value, where)
    origins[key] = where


def _convert(key: str, value: str, where: str) -> object:
    text = value.strip()
    if key in _LISTS:
        return tuple(text.split())
    if key in _BOOLS:
        lowered = text.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise _bad_value(key, value, where, "a boolean (true/false)")
    if key == "timeout":
        try:
            return float(text)
        except ValueError:
            raise _bad_value(key, value, where, "a positive number of seconds") from None
    if key == "retries":
        try:
            return int(text)
        except ValueError:
            raise _bad_value(key, value, where, "a whole number, 0 or more") from None
    if key == "index_strategy" and text not in ("first-index", "unsafe-best-match"):
        raise _bad_value(key, value, where, "first-index or unsafe-best-match")
    return text


def _bad_value(key: str, value: str, where: str, expected: str) -> DiagnosticError:
    flag = _flag_for(key)
    return DiagnosticError(
        "invalid-setting",
        "usage",
        f"setting {flag} = {value!r} is not {expected}",
        evidence=(f"set in {where}",),
        note=f"Correct or remove {flag} in {where}.",
        details={"setting": flag, "value": value, "origin": where},
    )


def split_list(values: Sequence[str]) -> tuple[str, ...]:
    """Flatten repeated command-line list options that may each hold spaces."""
    return tuple(part for value in values for part in value.split())
