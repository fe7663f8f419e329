"""Turn a candidate into what resolving and installing need: its metadata, then its wheel."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import typing
import zipfile
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Self

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from pipwise.dists import Candidate, Link
from pipwise.errors import DiagnosticError
from pipwise.memo import Once
from pipwise.net.http import (
    Fetcher,
    check_bytes,
    check_file,
    local_file_error,
    redact_url,
    url_to_path,
)

if TYPE_CHECKING:
    from tempfile import TemporaryDirectory

    from packaging.metadata import Metadata, RawMetadata

__all__ = ["Preparer"]

logger = logging.getLogger(__name__)


class Preparer:
    """Fetches metadata and wheels for candidates, downloading into ``cache_dir`` (or, when it
    is None, a temporary directory removed by `close`)."""

    def __init__(self, fetcher: Fetcher, cache_dir: Path | None) -> None:
        self._fetcher = fetcher
        self._scratch: TemporaryDirectory[str] | None = None
        if cache_dir is None:
            from tempfile import TemporaryDirectory  # only without a cache

            self._scratch = TemporaryDirectory(prefix="pipwise-")
            cache_dir = Path(self._scratch.name)
        self._wheels = cache_dir / "wheels-v1"
        self._metadata_dir = cache_dir / "metadata-v1"
        self._metadata: Once[str, RawMetadata] = Once()
        self._wheel_files: Once[tuple[str, frozenset[tuple[str, str]]], Path] = Once()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Remove the temporary download directory, if one was used."""
        if self._scratch is not None:
            self._scratch.cleanup()

    def metadata(self, candidate: Candidate) -> Metadata:
        """The core metadata of ``candidate``, read as cheaply as the source allows: the PEP 658
        ``.metadata`` file when the index offers one, the ``METADATA`` inside a local wheel,
        or else the downloaded wheel. Memoized per file URL (safe from any thread)."""
        from packaging.metadata import Metadata, RawMetadata

        # A copy: Metadata consumes the raw fields it parses, and the memo keeps them.
        return Metadata.from_raw(RawMetadata(**self.raw_metadata(candidate)), validate=False)

    def raw_metadata(self, candidate: Candidate) -> RawMetadata:
        """The same metadata in packaging's raw form (fields as written), for readers that
        parse only what they need: most of a package's Requires-Dist lines are for extras.
        Resolving needs nothing more, so the email parser loads only on a cache miss.
        Memoized per file URL and safe from any thread: this is the one metadata memo."""
        return self._metadata.get(candidate.link.url, partial(self._read_metadata, candidate))

    def _read_metadata(self, candidate: Candidate) -> RawMetadata:
        _require_wheel(candidate)
        entry = self._metadata_entry(candidate.link)
        if entry is not None:
            cached = _read_entry(entry, candidate)
            if cached is not None:
                return cached
        raw, url = self._fetch_raw(candidate)
        _check(raw, candidate, url)
        if entry is not None:
            _write_atomically(entry, json.dumps({"format": _ENTRY_FORMAT, "raw": raw}).encode())
        return raw

    def _metadata_entry(self, link: Link) -> Path | None:
        """Where parsed metadata of ``link`` is kept: by content hash for a remote wheel (files
        on an index never change), by path, size and mtime for a local one; None otherwise."""
        if link.is_file_url:
            try:
                stat = url_to_path(link.url).stat()
            except OSError:
                return None
            key = f"file|{link.url}|{stat.st_size}|{stat.st_mtime_ns}"
        elif "sha256" in link.hashes:
            key = f"sha256|{link.hashes['sha256']}"
        else:
            return None
        return self._metadata_dir / f"{hashlib.sha256(key.encode()).hexdigest()}.json"

    def _fetch_raw(self, candidate: Candidate) -> tuple[RawMetadata, str]:
        """The metadata as packaging's raw form, and the URL it was read from."""
        from packaging.metadata import parse_email

        link = candidate.link
        if link.metadata_hashes is not None:
            url = f"{link.url}.metadata"
            response = self._fetcher.get(url)
            if response.ok:
                check_bytes(response.body, link.metadata_hashes, url=url)
                return parse_email(response.body)[0], url
            # The index advertised the file but cannot serve it; the wheel still has it.
            logger.debug("%s answered %s; reading the wheel", redact_url(url), response.status)
        path = url_to_path(link.url) if link.is_file_url else self.wheel(candidate)
        return parse_email(_wheel_metadata(path, link.url))[0], link.url

    def wheel(self, candidate: Candidate) -> Path:
        """The wheel file of ``candidate``, checked against the link's hashes: a local file is
        used in place; a remote one is downloaded to ``wheels-v1/<sha256 of URL>/`` in the
        cache, where a copy that still matches its hashes is reused. Memoized per URL and
        hashes (safe from any thread), so reading metadata from a wheel and installing it
        download it once."""
        link = candidate.link
        key = (link.url, frozenset(link.hashes.items()))
        return self._wheel_files.get(key, partial(self._wheel, candidate))

    def _wheel(self, candidate: Candidate) -> Path:
        _require_wheel(candidate)
        link = candidate.link
        if link.is_file_url:
            path = url_to_path(link.url)
            if link.hashes:
                check_file(path, link.hashes, url=link.url)
            else:
                try:
                    with path.open("rb"):  # used in place, so it must be there and readable
                        pass
                except OSError as exc:
                    raise local_file_error(path, exc) from exc
            return path
        dest = self._wheels / hashlib.sha256(link.url.encode()).hexdigest() / link.filename
        # Without hashes a cached copy cannot be told from a stale one: each run fetches anew.
        if link.hashes and dest.is_file():
            try:
                check_file(dest, link.hashes, url=link.url)
            except DiagnosticError as err:
                if err.code != "hash-mismatch":
                    raise
            else:
                return dest
        return self._fetcher.download(link.url, dest, hashes=link.hashes)


def _require_wheel(candidate: Candidate) -> None:
    """Refuse sdists until source builds exist; the caller may add a ``fix`` naming a version
    that has a wheel, which only it can compute."""
    if candidate.kind == "wheel":
        return
    link = candidate.link
    raise DiagnosticError(
        "source-build-unsupported",
        "build",
        f"{candidate.name} {candidate.version} is available only as a source distribution, "
        "and pipwise cannot build from source yet",
        (f"sdist {link.filename}", f"offered by {link.comes_from}"),
        details={
            "name": candidate.name,
            "version": str(candidate.version),
            "filename": link.filename,
            "url": redact_url(link.url),
        },
    )


def _invalid(code: str, url: str, problem: str) -> DiagnosticError:
    shown = redact_url(url)
    return DiagnosticError(code, "integrity", problem, (f"from {shown}",), details={"url": shown})


def _wheel_metadata(path: Path, url: str) -> bytes:
    """The bytes of ``<name>-<version>.dist-info/METADATA`` inside the wheel at ``path``."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = [
                member
                for member in archive.namelist()
                if member.count("/") == 1 and member.endswith(".dist-info/METADATA")
            ]
            if len(members) != 1:
                found = f"{len(members)} .dist-info/METADATA files"
                raise _invalid("invalid-wheel", url, f"{path.name} has {found}, not one")
            return archive.read(members[0])
    except OSError as exc:
        raise local_file_error(path, exc) from exc
    except zipfile.BadZipFile as exc:
        raise _invalid("invalid-wheel", url, f"{path.name} is not a valid zip: {exc}") from exc


def _read_entry(entry: Path, candidate: Candidate) -> RawMetadata | None:
    """The metadata cached at ``entry`` if it is whole, has packaging's raw shape and describes
    ``candidate``; otherwise None, so that the caller reads the source and rewrites the entry
    (a damaged or stale cache must never be blamed on the wheel)."""
    try:
        stored = json.loads(entry.read_bytes())
        if not isinstance(stored, dict) or stored.get("format") != _ENTRY_FORMAT:
            raise ValueError("not an entry written by this version of pipwise")
        raw = _as_raw(stored.get("raw"))
        _check(raw, candidate, entry.as_uri())
    except FileNotFoundError:
        return None
    except (OSError, ValueError, DiagnosticError) as exc:
        logger.debug("ignoring the metadata cache entry %s: %s", entry, exc)
        return None
    return raw


#: Marks the entries this code writes; anything else in the cache is read again from source.
_ENTRY_FORMAT = "pipwise-raw-metadata-1"

#: The raw fields pipwise reads, with the JSON type each must have.
_READ_FIELDS: dict[str, type] = {
    "name": str,
    "version": str,
    "requires_python": str,
    "requires_dist": list,
    "provides_extra": list,
}


def _as_raw(data: object) -> RawMetadata:
    """``data`` as RawMetadata; ValueError unless it has packaging's raw shape (every value a
    string, a list of strings or a string mapping) and the fields pipwise reads their types.

    Checked structurally rather than against RawMetadata's type hints: importing
    packaging.metadata (and the email stack) would cost ~20 ms on every warm run.
    """
    if not isinstance(data, dict):
        raise ValueError(f"a JSON {type(data).__name__}, not an object")
    for key, value in data.items():
        expected = _READ_FIELDS.get(key)
        if expected is not None and type(value) is not expected:
            raise ValueError(f"field {key!r} holds {value!r}")
        if isinstance(value, dict):
            parts = [*value, *value.values()]
        else:
            parts = value if isinstance(value, list) else [value]
        if not isinstance(key, str) or not all(isinstance(part, str) for part in parts):
            raise ValueError(f"field {key!r} holds {value!r}")
    return typing.cast("RawMetadata", data)


def _write_atomically(path: Path, data: bytes) -> None:
    """Write a cache entry so that a reader sees the whole file or none (best effort)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        temporary.write_bytes(data)
        temporary.replace(path)
    except OSError as exc:
        logger.debug("could not cache metadata at %s: %s", path, exc)


def _check(raw: RawMetadata, candidate: Candidate, url: str) -> None:
    """Metadata is read leniently (as installers must); it must only name the project and
    version that the candidate's file name promised."""
    expected = f"{candidate.name} {candidate.version}"
    name, version = raw.get("name"), raw.get("version")
    if not name or not version:
        missing = " and ".join(f for f, v in (("name", name), ("version", version)) if not v)
        raise _invalid("invalid-metadata", url, f"metadata for {expected}: no {missing}")
    try:
        found = (canonicalize_name(name), Version(version))
    except InvalidVersion as exc:
        raise _invalid("invalid-metadata", url, f"metadata for {expected}: {exc}") from exc
    if found != (candidate.name, candidate.version):
        raise _invalid(
            "invalid-metadata", url, f"metadata for {expected} describes {found[0]} {found[1]}"
        )
