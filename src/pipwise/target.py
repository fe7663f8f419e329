"""The target interpreter: what pipwise installs into, as the interpreter itself reports it.

A `Target` is built from the stdlib-only probe (`pipwise.env.probe`) run inside the
target Python, so markers, tags and install paths are the target's, never pipwise's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from packaging.tags import Tag

if TYPE_CHECKING:
    from packaging.markers import Marker

__all__ = ["MarkerError", "Scheme", "Target"]


class MarkerError(ValueError):
    """A marker that cannot be evaluated for the target (e.g. ``python_version ~= "3"``)."""


@dataclass(frozen=True, slots=True)
class Scheme:
    """Where each part of a wheel goes (the keys `installer` expects)."""

    purelib: str
    platlib: str
    scripts: str
    data: str
    headers: str

    def as_dict(self) -> dict[str, str]:
        return {
            "purelib": self.purelib,
            "platlib": self.platlib,
            "scripts": self.scripts,
            "data": self.data,
            "headers": self.headers,
        }


@dataclass(frozen=True, slots=True)
class Target:
    """An interpreter and the environment it installs into."""

    #: The interpreter path as given or discovered (a venv's ``bin/python``, not its base).
    executable: str
    #: ``sys.prefix``: the environment's root.
    prefix: str
    base_prefix: str
    #: ``sys.version_info[:3]``.
    version: tuple[int, int, int]
    #: ``platform.python_version()``, e.g. ``3.11.7``.
    version_string: str
    #: ``sys.implementation.name``, e.g. ``cpython``.
    implementation: str
    is_venv: bool
    #: The text of the ``EXTERNALLY-MANAGED`` file's error (PEP 668), or None when not managed.
    #: Always None inside a virtual environment.
    externally_managed: str | None
    #: Whether this user can write to the scheme's purelib directory.
    site_writable: bool
    #: The PEP 508 marker environment (``packaging.markers.default_environment()`` keys).
    markers: Mapping[str, str]
    #: Supported wheel tags, most preferred first.
    tags: tuple[Tag, ...] = field(repr=False)
    scheme: Scheme
    #: The ``--user`` scheme, when the interpreter has one enabled.
    user_scheme: Scheme | None
    #: The interpreter's ``sys.path`` directories (for listing what is importable, including
    #: packages outside the install scheme such as a distribution's ``dist-packages``).
    sys_path: tuple[str, ...] = ()

    @property
    def site_dirs(self) -> tuple[str, ...]:
        """Where installed distributions are looked for: the scheme first, then sys.path."""
        dirs = dict.fromkeys([self.scheme.purelib, self.scheme.platlib, *self.sys_path])
        return tuple(dirs)

    def marker_applies(self, marker: Marker | None, extra: str = "") -> bool:
        """Whether ``marker`` holds for this interpreter (with ``extra`` as the active extra).

        Raises `MarkerError` for a marker packaging cannot evaluate, so callers can say which
        requirement it came from instead of failing with a traceback.
        """
        if marker is None:
            return True
        # Imported here: the marker parser costs ~20 ms, and `pipwise list` never needs it.
        from packaging.markers import UndefinedComparison, UndefinedEnvironmentName

        try:
            return marker.evaluate({**self.markers, "extra": extra})
        except (UndefinedComparison, UndefinedEnvironmentName) as exc:
            raise MarkerError(f"marker {str(marker)!r} cannot be evaluated: {exc}") from exc

    @property
    def python_version(self) -> str:
        """``X.Y``, as used in messages and ``python_version`` markers."""
        return f"{self.version[0]}.{self.version[1]}"

    def describe(self) -> str:
        """One line naming the interpreter and environment, shown before any change."""
        if self.is_venv:
            where = f"virtual environment {self.prefix}"
        elif self.externally_managed is not None:
            where = f"system environment {self.prefix} (externally managed)"
        else:
            where = f"system environment {self.prefix}"
        return f"Python {self.version_string} at {self.executable}, {where}"
