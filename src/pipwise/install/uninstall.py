"""Uninstalling as a mini-transaction: stash a distribution's files, then drop or restore them."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from pipwise.errors import DiagnosticError
from pipwise.install.installed import InstalledDistribution
from pipwise.target import Scheme

__all__ = ["Stash", "refuse_unremovable", "stash_distribution", "uninstall"]


class Stash:
    """Files moved aside into one directory, to be dropped (`commit`) or put back (`rollback`).

    The directory is created on the first `add`, inside ``parent``, so that moves are
    renames whenever the files live on the same filesystem.
    """

    def __init__(self, parent: Path, *, cleanup_roots: Iterable[Path] = ()) -> None:
        self._parent = parent
        #: Directories under which those emptied by `commit` are removed (never the roots).
        self._roots = {Path(os.path.realpath(root)) for root in cleanup_roots}
        self._directory: Path | None = None
        self._moved: list[tuple[Path, Path]] = []

    def add(self, path: Path) -> None:
        """Move ``path`` (a file or symlink) into the stash."""
        if self._directory is None:
            self._directory = Path(tempfile.mkdtemp(prefix=".pipwise-stash-", dir=self._parent))
        # Numbered (names repeat across directories); the name kept for whoever looks inside.
        stashed = self._directory / f"{len(self._moved)}-{path.name}"
        shutil.move(path, stashed)
        self._moved.append((path, stashed))

    def commit(self) -> list[Path]:
        """Delete the stashed files and the directories they left empty; return their paths."""
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
        removed = [original for original, _ in self._moved]
        self._remove_empty_parents(removed)
        self._moved.clear()
        return sorted(removed)

    def rollback(self) -> None:
        """Put every stashed file back where it was."""
        failed: list[str] = []
        for original, stashed in reversed(self._moved):
            try:
                original.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(stashed, original)
            except OSError as exc:
                failed.append(f"{stashed} -> {original} ({exc})")
        self._moved.clear()
        if failed:
            raise DiagnosticError(
                "rollback-incomplete",
                "environment",
                f"{len(failed)} file(s) could not be restored; they are kept in {self._directory}",
                evidence=tuple(failed),
                note="Move each file back by hand (stashed path -> original path, as listed), "
                f"then delete {self._directory}.",
            )
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)

    def _remove_empty_parents(self, removed: list[Path]) -> None:
        candidates: set[Path] = set()
        for path in removed:
            parent = Path(os.path.realpath(path.parent))
            while any(parent.is_relative_to(root) and parent != root for root in self._roots):
                candidates.add(parent)
                parent = parent.parent
        # Deepest first, so a directory holding only emptied directories goes too.
        for directory in sorted(candidates, key=lambda d: len(d.parts), reverse=True):
            # Not empty means it holds something we did not remove: keep it.
            with contextlib.suppress(OSError):
                directory.rmdir()


def refuse_unremovable(dist: InstalledDistribution) -> None:
    """Raise ``legacy-egg-info-uninstall`` for a distribution pipwise does not remove.

    A setuptools ``.egg-info`` install has no RECORD; its ``installed-files.txt`` is
    optional and unchecked, so removing by it could leave a half-removed package.
    """
    if dist.is_egg_info:
        raise DiagnosticError(
            "legacy-egg-info-uninstall",
            "environment",
            f"{dist.name} {dist.raw_version} is a legacy setuptools install "
            f"({dist.dist_info.name}) that pipwise does not remove; nothing was removed",
            evidence=(f"{dist.dist_info} is egg-info metadata, without a RECORD",),
            note=f"Remove {dist.name} with pip (python -m pip uninstall {dist.name}, run with "
            "this environment's python) or, if the operating system installed it, with the "
            "system's package manager.",
        )


def stash_distribution(dist: InstalledDistribution, *, prefix: str, scheme: Scheme) -> Stash:
    """Move every file of ``dist`` into a stash inside ``prefix``; the caller commits or rolls back.

    Refuses, moving nothing, when a RECORD path resolves outside ``prefix``, and for a
    legacy ``.egg-info`` install (`refuse_unremovable`).
    """
    refuse_unremovable(dist)
    listed = dist.files()
    root = Path(os.path.realpath(prefix))
    outside = [str(path) for path in listed if not _real(path).is_relative_to(root)]
    if outside:
        raise DiagnosticError(
            "uninstall-outside-environment",
            "environment",
            f"{dist.name} {dist.raw_version} lists files outside {prefix}; nothing was removed",
            evidence=tuple(outside),
            note=f"RECORD is {dist.dist_info / 'RECORD'}",
        )
    files = _with_bytecode(listed)
    roots = [dist.location, *map(Path, (scheme.purelib, scheme.platlib, scheme.scripts))]
    stash = Stash(Path(prefix), cleanup_roots=roots)
    try:
        for path in files:
            stash.add(path)
    except OSError as exc:
        stash.rollback()
        raise DiagnosticError(
            "uninstall-failed",
            "environment",
            f"could not remove {dist.name} {dist.raw_version}; nothing was removed",
            evidence=(str(exc),),
        ) from exc
    except BaseException:
        stash.rollback()
        raise
    return stash


def uninstall(dist: InstalledDistribution, *, prefix: str, scheme: Scheme) -> list[Path]:
    """Remove ``dist``: the files its RECORD lists, their ``__pycache__`` files, emptied dirs.

    Returns the removed file paths. Either every file goes or none does.
    """
    return stash_distribution(dist, prefix=prefix, scheme=scheme).commit()


def _with_bytecode(listed: list[Path]) -> list[Path]:
    """The listed files that exist, plus the ``__pycache__`` files compiled from them."""
    stems: dict[Path, set[str]] = {}
    for path in listed:
        if path.suffix == ".py":
            stems.setdefault(path.parent / "__pycache__", set()).add(path.stem)
    compiled = [
        pyc
        for cache, names in stems.items()
        if cache.is_dir()
        for pyc in cache.iterdir()
        if _source_stem(pyc.name) in names
    ]
    # Keyed by real path: one file listed under two spellings is moved once.
    existing = {_real(p): p for p in [*listed, *compiled] if p.is_symlink() or p.is_file()}
    return list(existing.values())


def _source_stem(name: str) -> str | None:
    # PEP 3147 and 488 names: {stem}.{tag}.pyc and {stem}.{tag}.opt-{level}.pyc
    match = re.fullmatch(r"(.+?)\.[^.]+(\.opt-\d+)?\.pyc", name)
    return match[1] if match else None


def _real(path: Path) -> Path:
    # Resolve the directory, not the file: a symlink that is itself listed is removed as a
    # link, while ``../../../bin/tool`` and symlinked directories are judged where they land.
    return Path(os.path.realpath(path.parent)) / path.name
