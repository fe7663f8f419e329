"""The ``pipwise`` command: argument parsing, dispatch, and the mapping of errors to exit codes.

Command modules are imported only when chosen, so ``pipwise --version`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Any

from pipwise import __version__
from pipwise.errors import EXIT_USAGE, DiagnosticError

__all__ = ["build_parser", "main"]

_DESCRIPTION = (
    "pipwise installs Python packages into an isolated environment, fast, and when anything "
    "goes wrong it says what happened, why, and the command that fixes it."
)


class _Formatter(argparse.RawDescriptionHelpFormatter):
    pass


def _target_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("target environment")
    group.add_argument(
        "--python",
        metavar="PATH|VERSION",
        help="interpreter to act on: a path, a venv directory, or a version such as 3.12 "
        "(default: the active venv, else .venv here or in a parent directory)",
    )
    group.add_argument(
        "--system",
        action="store_true",
        help="allow acting on the first python3 on PATH when no environment is found",
    )


def _output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-v", "--verbose", action="count", default=0, help="say more")
    parser.add_argument("-q", "--quiet", action="count", default=0, help="say less")


def _index_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("package index")
    group.add_argument("-i", "--index-url", metavar="URL", help="base URL of the package index")
    group.add_argument(
        "--extra-index-url",
        action="append",
        metavar="URL",
        help="more indexes, consulted after --index-url (repeatable)",
    )
    group.add_argument(
        "-f",
        "--find-links",
        action="append",
        metavar="PATH|URL",
        help="a directory or HTML page of archives to consider (repeatable)",
    )
    group.add_argument(
        "--no-index", action="store_true", default=None, help="ignore indexes; use --find-links"
    )
    group.add_argument(
        "--index-strategy",
        choices=["first-index", "unsafe-best-match"],
        help="first-index (default): a name is taken only from the first index that has it, "
        "so an extra index cannot shadow it; unsafe-best-match: merge all indexes as pip does",
    )
    group.add_argument("--cert", metavar="PATH", help="extra CA bundle for TLS verification")
    group.add_argument("--client-cert", metavar="PATH", help="client certificate (PEM)")
    group.add_argument(
        "--trusted-host",
        action="append",
        metavar="HOST",
        help="skip TLS verification for HOST (a warning says so on every run)",
    )
    group.add_argument("--proxy", metavar="URL", help="proxy for all requests")
    group.add_argument("--timeout", type=float, metavar="SECONDS", help="network timeout")
    group.add_argument("--retries", type=int, metavar="N", help="retries on network failures")
    group.add_argument("--cache-dir", metavar="DIR", help="cache directory")
    group.add_argument(
        "--no-cache-dir", dest="no_cache", action="store_true", default=None, help="no cache"
    )


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


def _format_option(parser: argparse.ArgumentParser, choices: Sequence[str]) -> None:
    parser.add_argument(
        "--format",
        choices=list(choices),
        default=choices[0],
        help="output format; json also reports errors as JSON on stdout",
    )


def _install_arguments(parser: argparse.ArgumentParser) -> None:
    _target_options(parser)
    _output_options(parser)
    parser.add_argument("requirements", nargs="*", metavar="REQUIREMENT", help="what to install")
    parser.add_argument(
        "-r",
        "--requirement",
        dest="requirement_files",
        action="append",
        default=[],
        metavar="FILE",
        help="install from a requirements file (repeatable)",
    )
    parser.add_argument(
        "-c",
        "--constraint",
        dest="constraint_files",
        action="append",
        default=[],
        metavar="FILE",
        help="limit versions with a constraints file (repeatable)",
    )
    parser.add_argument(
        "-U", "--upgrade", action="store_true", help="upgrade named packages to the newest"
    )
    parser.add_argument(
        "--upgrade-strategy",
        choices=["only-if-needed", "eager"],
        default="only-if-needed",
        help="with -U: only-if-needed (default) upgrades dependencies only when the upgraded "
        "packages need it; eager upgrades every dependency to the newest",
    )
    parser.add_argument(
        "--pre",
        action="store_true",
        default=None,
        help="allow pre-release versions (the same as --prerelease allow)",
    )
    parser.add_argument(
        "--prerelease",
        choices=[
            "pip",
            "disallow",
            "allow",
            "if-necessary",
            "explicit",
            "if-necessary-or-explicit",
        ],
        default="pip",
        metavar="POLICY",
        help="which pre-releases may be chosen (uv's policies): disallow; allow; if-necessary "
        "(stable versions first, a pre-release only when every stable one is ruled out); "
        "explicit (only for packages you requested with a specifier naming a pre-release, "
        "stable versions still first); if-necessary-or-explicit (as current uv: the same as "
        "if-necessary). Default: pip's rule (--pre, a specifier naming a pre-release, or "
        "nothing else fits)",
    )
    parser.add_argument("--no-deps", action="store_true", help="do not install dependencies")
    parser.add_argument(
        "--force-reinstall", action="store_true", help="reinstall even if already present"
    )
    parser.add_argument(
        "-I",
        "--ignore-installed",
        action="store_true",
        help="resolve as if nothing were installed, and reinstall every package resolved "
        "(old versions are replaced, not overwritten)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="resolve and print what would change, without downloading wheels or changing "
        "anything; with --ignore-installed, resolves the requirements alone",
    )
    parser.add_argument(
        "--report",
        metavar="FILE",
        help="write pip's JSON installation report (version 1) of what is installed to FILE; "
        "'-' writes it to stdout and everything else to stderr. pip_version holds pipwise's "
        "version",
    )
    parser.add_argument(
        "--resolution-budget",
        type=_positive_int,
        metavar="N",
        help="give up after N solver steps (decisions and backtracks) with a diagnosis of "
        "what kept conflicting (default: the resolver's budget, 20000)",
    )
    parser.add_argument(
        "--allow-breaking",
        action="store_true",
        help="install even when that breaks requirements of installed packages "
        "(each is warned about); by default such an install stops before changing anything",
    )
    parser.add_argument(
        "--break-system-packages",
        action="store_true",
        help="install into an externally managed (PEP 668) interpreter anyway",
    )
    _index_options(parser)
    _format_option(parser, ["text", "json"])


def _uninstall_arguments(parser: argparse.ArgumentParser) -> None:
    _target_options(parser)
    _output_options(parser)
    parser.add_argument("names", nargs="*", metavar="NAME")
    parser.add_argument(
        "-r", "--requirement", dest="requirement_files", action="append", default=[]
    )
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    parser.add_argument(
        "--break-system-packages",
        action="store_true",
        help="act on an externally managed (PEP 668) interpreter anyway",
    )
    _format_option(parser, ["text", "json"])


def _list_arguments(parser: argparse.ArgumentParser) -> None:
    _target_options(parser)
    _output_options(parser)
    _format_option(parser, ["columns", "freeze", "json"])


def _freeze_arguments(parser: argparse.ArgumentParser) -> None:
    _target_options(parser)
    _output_options(parser)
    parser.add_argument(
        "--all", action="store_true", help="include pip, setuptools, wheel and distribute"
    )


def _show_arguments(parser: argparse.ArgumentParser) -> None:
    _target_options(parser)
    _output_options(parser)
    parser.add_argument("names", nargs="+", metavar="NAME")
    parser.add_argument("-f", "--files", action="store_true", help="list the installed files")
    _format_option(parser, ["text", "json"])


def _venv_arguments(parser: argparse.ArgumentParser) -> None:
    _output_options(parser)
    parser.add_argument("path", nargs="?", default=".venv", help="where (default: .venv)")
    parser.add_argument(
        "--python", metavar="PATH|VERSION", help="base interpreter (default: pipwise's own)"
    )
    parser.add_argument("--seed", action="store_true", help="install pip into the environment")
    parser.add_argument(
        "--system-site-packages",
        action="store_true",
        help="give the environment access to the base interpreter's packages",
    )
    parser.add_argument("--prompt", help="prompt prefix shown when the environment is active")
    parser.add_argument("--clear", action="store_true", help="replace an existing environment")


#: name, add_parser keywords (help, description, epilog), and the function adding its options.
_COMMANDS: list[tuple[str, dict[str, Any], Callable[[argparse.ArgumentParser], None]]] = [
    (
        "install",
        dict(
            help="install packages and their dependencies",
            description="Resolve the requirements against the target interpreter and install "
            "what is missing.",
            epilog="examples:\n"
            "  pipwise install requests\n"
            "  pipwise install 'rich[jupyter]>=13' -r requirements.txt\n"
            "  pipwise install --python 3.12 --index-url file:///srv/simple numpy\n"
            "  pipwise install ./dist/app-1.0-py3-none-any.whl\n"
            "  pipwise install --dry-run --report - -I 'django>=5'   # resolve only, as JSON\n"
            "  pipwise install -U --upgrade-strategy eager flask",
        ),
        _install_arguments,
    ),
    (
        "uninstall",
        dict(
            help="remove installed packages",
            description="Remove exactly the files each package's RECORD lists.",
            epilog="examples:\n"
            "  pipwise uninstall -y requests\n"
            "  pipwise uninstall -r requirements.txt",
        ),
        _uninstall_arguments,
    ),
    (
        "list",
        dict(
            help="list installed packages",
            epilog="examples:\n  pipwise list\n  pipwise list --format json",
        ),
        _list_arguments,
    ),
    (
        "freeze",
        dict(
            help="print installed packages in requirements format",
            epilog="examples:\n  pipwise freeze > requirements.txt",
        ),
        _freeze_arguments,
    ),
    (
        "show",
        dict(
            help="show details of installed packages",
            epilog="examples:\n  pipwise show requests\n  pipwise show -f rich",
        ),
        _show_arguments,
    ),
    (
        "venv",
        dict(
            help="create a virtual environment",
            description="Create a virtual environment (without pip unless --seed, which is fast).",
            epilog="examples:\n  pipwise venv\n  pipwise venv /tmp/env --python 3.12 --seed",
        ),
        _venv_arguments,
    ),
]


_COMMAND_NAMES = frozenset(name for name, _, _ in _COMMANDS)


def build_parser(selected: str | None = None) -> argparse.ArgumentParser:
    """The command-line interface; with ``selected``, only that command's options are added
    (the others are listed by name), which keeps start-up short."""
    parser = argparse.ArgumentParser(
        prog="pipwise", description=_DESCRIPTION, formatter_class=_Formatter
    )
    parser.add_argument("--version", action="version", version=f"pipwise {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, settings, add_arguments in _COMMANDS:
        command = commands.add_parser(name, formatter_class=_Formatter, **settings)
        if selected in (None, name):
            add_arguments(command)
    return parser


_SETTING_OPTIONS = (
    "index_url",
    "extra_index_url",
    "find_links",
    "no_index",
    "index_strategy",
    "cert",
    "client_cert",
    "trusted_host",
    "proxy",
    "timeout",
    "retries",
    "cache_dir",
    "no_cache",
    "pre",
)


def _cli_settings(options: argparse.Namespace) -> dict[str, object]:
    """The settings the user gave on the command line, keyed by Settings field."""
    from pipwise.config import split_list

    given: dict[str, object] = {}
    for name in _SETTING_OPTIONS:
        value = getattr(options, name, None)
        if value is None:
            continue
        if name in ("extra_index_url", "find_links", "trusted_host"):
            key = {"extra_index_url": "extra_index_urls", "trusted_host": "trusted_hosts"}.get(
                name, name
            )
            given[key] = split_list(value)
        else:
            given[name] = value
    return given


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    # The command is the first word that is not an option (top-level options take no value).
    selected = next((a for a in arguments if not a.startswith("-")), None)
    parser = build_parser(selected if selected in _COMMAND_NAMES else None)
    options = parser.parse_args(arguments)
    if options.command is None:
        parser.print_help()
        return EXIT_USAGE
    from pipwise.cli.render import TerminalUI
    from pipwise.session import Session

    ui = TerminalUI(verbosity=getattr(options, "verbose", 0) - getattr(options, "quiet", 0))
    as_json = getattr(options, "format", None) == "json"
    try:
        module = importlib.import_module(f"pipwise.commands.{options.command}")
        with Session(cli_settings=_cli_settings(options)) as session:
            code: int = module.run(session, options, ui)
        return code
    except DiagnosticError as error:
        ui.error(error, as_json=as_json)
        return error.exit_code
    except KeyboardInterrupt:
        print("\npipwise: interrupted", file=sys.stderr)
        return 130
