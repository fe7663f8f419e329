"""Requirement specifiers from the command line and from requirements files.

Each parsed requirement remembers where it came from (``the command line`` or
``requirements.txt:3``) so resolution failures can cite it. The subset of the
requirements-file format handled here: requirement lines, comments, line
continuations, ``${VAR}`` expansion, ``-r``/``-c`` nesting and the index options
(``-i``, ``--extra-index-url``, ``-f``, ``--no-index``, ``--pre``). Any other option is
refused by name rather than ignored.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from pipwise.errors import DiagnosticError

__all__ = ["ParsedRequirements", "RequestedRequirement", "parse_file", "parse_requirement"]

_ENV_VAR = re.compile(r"\$\{([A-Z0-9_]+)\}")
_COMMENT = re.compile(r"(^|\s+)#.*$")
_OPERATOR_TYPO = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*=\s*([^=<>~!].*)$")
#: An option line: the name, then ``=`` (spaces allowed around it) or whitespace, then the
#: value. A short option may also be glued to its value (``-rother.txt``), as in pip.
_OPTION = re.compile(r"(--[\w-]+(?=[\s=]|$)|-\w)\s*(?:=\s*)?(.*)")
#: Per-requirement options (``--hash=...`` from pip-compile) start at the first word of a
#: requirement line that begins with a dash, as pip splits such lines.
_REQUIREMENT_OPTION = re.compile(r"\s(--?[A-Za-z][\w-]*)")
_COMMAND_LINE = "the command line"


@dataclass(frozen=True, slots=True)
class RequestedRequirement:
    """A requirement the user asked for, with its source for explanations."""

    requirement: Requirement
    #: "the command line", or "path/requirements.txt:LINE".
    source: str
    #: True for ``-c`` constraints: they limit versions but do not request installation.
    constraint: bool = False


@dataclass(slots=True)
class ParsedRequirements:
    """Requirements plus the index options found in requirements files."""

    requirements: list[RequestedRequirement] = field(default_factory=list)
    index_url: str | None = None
    extra_index_urls: list[str] = field(default_factory=list)
    find_links: list[str] = field(default_factory=list)
    no_index: bool = False
    pre: bool = False

    def merge(self, other: ParsedRequirements) -> None:
        """Add what ``other`` (a later or nested file) says; its ``-i`` wins over ours."""
        self.requirements += other.requirements
        self.index_url = other.index_url or self.index_url
        self.extra_index_urls += other.extra_index_urls
        self.find_links += other.find_links
        self.no_index = self.no_index or other.no_index
        self.pre = self.pre or other.pre


def parse_requirement(text: str, source: str = _COMMAND_LINE) -> RequestedRequirement:
    """Parse one PEP 508 requirement, turning syntax errors into a diagnosis; a typo on the
    command line gets a pasteable fix."""
    return _parse(text, source, where=source)


def _parse(text: str, source: str, *, where: str) -> RequestedRequirement:
    try:
        return RequestedRequirement(Requirement(text), source)
    except InvalidRequirement as exc:
        raise _invalid(text, source, str(exc), where) from None


def _invalid(text: str, source: str, detail: str, where: str) -> DiagnosticError:
    """``invalid-requirement``; for a single ``=`` the corrected text is in
    ``details["corrected"]``, so a caller that knows the whole command can repeat it."""
    corrected = _corrected(text)
    fix = None
    if corrected is None:
        note = (
            "a requirement is a name with optional extras, version specifiers and markers, "
            "e.g. 'requests>=2.31' or 'rich[jupyter]==13.7.1'"
        )
    elif source == _COMMAND_LINE:
        fix = "pipwise install " + shlex.quote(corrected)
        note = "a single '=' is not a version operator; '==' pins an exact version"
    else:
        note = f"{where} should read: {corrected}  ('==' pins a version; '=' is no operator)"
    return DiagnosticError(
        "invalid-requirement",
        "usage",
        f"{text!r} is not a valid requirement",
        evidence=(f"from {source}", detail),
        fix=fix,
        note=note,
        details={"corrected": corrected} if corrected else {},
    )


def _corrected(text: str) -> str | None:
    """``text`` with a single ``=`` made ``==``, if that makes it a valid requirement."""
    match = _OPERATOR_TYPO.match(text.strip())
    if match is None:
        return None
    corrected = f"{match.group(1)}{match.group(2) or ''}=={match.group(3).strip()}"
    try:
        Requirement(corrected)
    except InvalidRequirement:
        return None
    return corrected


def parse_file(
    path: Path,
    *,
    constraint: bool = False,
    environ: Mapping[str, str] | None = None,
    _seen: frozenset[Path] = frozenset(),
    _from: str | None = None,
) -> ParsedRequirements:
    """Read a requirements (or, with ``constraint``, constraints) file and the files it includes."""
    environ = os.environ if environ is None else environ
    resolved = path.resolve()
    if resolved in _seen:
        raise DiagnosticError(
            "requirements-file-cycle",
            "usage",
            f"requirements file {path} includes itself",
            evidence=tuple(f"included from {p}" for p in sorted(_seen)),
            fix=f"remove the -r line that includes {path}",
        )
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        evidence = [f"looked for {resolved}"]
        if _from:
            evidence.append(f"included from {_from}")
        near = sorted(p.name for p in resolved.parent.glob("*requirements*.txt"))
        if near:
            evidence.append("requirements files in that directory: " + ", ".join(near))
        fix = note = None
        if _from:  # the line to correct is in another file: no command can fix it
            note = f"correct the line at {_from}; a relative path there is taken from its file"
        elif len(near) == 1:
            fix = f"pipwise install -r {shlex.quote(str(path.parent / near[0]))}"
        elif not near:
            note = "check the path; a relative path is taken from the current directory"
        raise DiagnosticError(
            "requirements-file-not-found",
            "usage",
            f"requirements file {path} does not exist",
            evidence=tuple(evidence),
            fix=fix,
            note=note,
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DiagnosticError(
            "requirements-file-unreadable",
            "usage",
            f"requirements file {path} cannot be read",
            evidence=(str(exc),),
        ) from exc
    parsed = ParsedRequirements()
    for lineno, line in _logical_lines(text):
        line = _ENV_VAR.sub(lambda m: environ.get(m.group(1), m.group(0)), line)
        source = f"{path}:{lineno}"
        if line.startswith("-"):
            _apply_option(parsed, line, source, path, constraint, environ, _seen | {resolved})
            continue
        option = _REQUIREMENT_OPTION.search(line)
        if option:
            raise _unsupported(option[1], line, source)
        req = _parse(line, source, where=f"line {lineno} of {path}")
        parsed.requirements.append(
            RequestedRequirement(req.requirement, source, constraint=constraint)
        )
    return parsed


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Join backslash continuations, then drop comments (pip's order)."""
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate([*text.splitlines(), ""], start=1):
        if not buffer:
            start = number
        if raw.endswith("\\") and not raw.lstrip().startswith("#"):
            buffer.append(raw[:-1])
            continue
        buffer.append(raw)
        joined = _COMMENT.sub("", "".join(buffer)).strip()
        buffer = []
        if joined:
            yield start, joined


_OPTIONS_WITH_VALUE = {
    "-r": "requirement",
    "--requirement": "requirement",
    "-c": "constraint",
    "--constraint": "constraint",
    "-i": "index_url",
    "--index-url": "index_url",
    "--extra-index-url": "extra_index_url",
    "-f": "find_links",
    "--find-links": "find_links",
}


def _apply_option(
    parsed: ParsedRequirements,
    line: str,
    source: str,
    path: Path,
    constraint: bool,
    environ: Mapping[str, str],
    seen: frozenset[Path],
) -> None:
    match = _OPTION.fullmatch(line)
    name, value = (match[1], match[2].strip()) if match else (line.split()[0], "")
    if name == "--pre":
        parsed.pre = True
        return
    if name == "--no-index":
        parsed.no_index = True
        return
    kind = _OPTIONS_WITH_VALUE.get(name)
    if kind is None or not value:
        raise _unsupported(name, line, source, needs_value=kind is not None)
    if kind in ("requirement", "constraint"):
        nested_path = Path(value)
        if not nested_path.is_absolute():
            nested_path = path.parent / nested_path
        nested = parse_file(
            nested_path,
            constraint=constraint or kind == "constraint",
            environ=environ,
            _seen=seen,
            _from=source,
        )
        parsed.merge(nested)
    elif kind == "index_url":
        parsed.index_url = value
    elif kind == "extra_index_url":
        parsed.extra_index_urls.append(value)
    else:
        local = path.parent / value
        parsed.find_links.append(str(local) if "://" not in value and local.exists() else value)


def _unsupported(
    name: str, line: str, source: str, *, needs_value: bool = False
) -> DiagnosticError:
    if needs_value:
        cause = f"option {name} in {source} needs a value"
    else:
        cause = f"option {name!r} in {source} is not supported by this version of pipwise"
    note = (
        "supported here: requirement lines, -r, -c, -i/--index-url, --extra-index-url, "
        "-f/--find-links, --no-index, --pre"
    )
    if name == "--hash":
        note = (
            "hash-checking mode is not supported yet; generate the file without hashes "
            "(pip-compile without --generate-hashes) to install from it. " + note
        )
    return DiagnosticError(
        "unsupported-requirements-option",
        "usage",
        cause,
        evidence=(f"{source}: {line}",),
        note=note,
        details={"option": name},
    )
