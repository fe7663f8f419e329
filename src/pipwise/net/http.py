"""The HTTP seam: the `Fetcher` protocol, `HttpFetcher` (file:// here, the network through the
lazily imported urllib3 + truststore transport), and hash checks."""

from __future__ import annotations

import errno
import hashlib
import http
import os
import posixpath
import re
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Self

from pipwise import __version__
from pipwise.errors import DiagnosticError

if TYPE_CHECKING:
    from pipwise.net._transport import Transport

__all__ = [
    "Fetcher",
    "HttpFetcher",
    "Response",
    "check_bytes",
    "check_file",
    "check_url",
    "link_filename",
    "local_file_error",
    "redact_url",
    "status_error",
    "url_to_path",
]

_CHUNK = 64 * 1024
_MAX_REDIRECTS = 10


@dataclass(frozen=True, slots=True)
class Response:
    """A fetched page: final URL, status, headers (lower-case keys) and body.

    Non-2xx statuses are data, not errors: the caller decides what a 404 means.
    """

    #: The URL after redirects (keeping the caller's credentials while on the same host).
    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-cased; empty when absent."""
        return self.headers.get("content-type", "").partition(";")[0].strip().lower()


class Fetcher(Protocol):
    """What the index and the preparer need from the network; tests plug in here."""

    def get(self, url: str, *, accept: str | None = None) -> Response:
        """GET an ``http(s)://`` or ``file://`` URL and return the response, whatever its status
        (a missing local file is a 404; one that exists but cannot be read raises)."""
        ...

    def download(self, url: str, dest: Path, *, hashes: Mapping[str, str] | None = None) -> Path:
        """Save ``url`` as ``dest``, verifying ``hashes`` (algorithm -> hex); return ``dest``."""
        ...


def redact_url(url: str) -> str:
    """``url`` with its password, or a lone token, replaced by ``****`` (as pip shows them).

    >>> redact_url("https://user:secret@example.org/simple/")
    'https://user:****@example.org/simple/'
    >>> redact_url("https://token@example.org/simple/")
    'https://****@example.org/simple/'
    """
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:  # a malformed URL is shown in a diagnosis, so it must not raise here
        return re.sub(r"//[^/?#]*@", "//****@", url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at:
        return url
    user, colon, _ = userinfo.partition(":")
    shown = f"{user}:****" if colon else "****"
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{shown}@{hostport}"))


def url_to_path(url: str) -> Path:
    """The local path a ``file://`` URL names."""
    path = urllib.parse.urlsplit(url).path
    if os.name == "nt":  # drive letters and backslashes; the module is tiny and Windows-only
        from nturl2path import url2pathname

        return Path(url2pathname(path))
    # urllib.request.url2pathname does just this on POSIX, but importing it costs ~35 ms.
    return Path(urllib.parse.unquote(path))


def link_filename(url: str) -> str:
    """The file name a URL ends with, percent-decoded, without query or fragment.

    >>> link_filename("https://example.org/files/demo%2Bx-1.0.tar.gz?v=1#sha256=ab")
    'demo+x-1.0.tar.gz'
    """
    return urllib.parse.unquote(posixpath.basename(urllib.parse.urlsplit(url).path))


def check_url(url: str) -> None:
    """Raise ``invalid-index-url`` unless ``url`` is an ``http(s)://`` URL with a host and a
    numeric port: urllib3 and urlsplit would otherwise fail deep inside a request."""
    problem = None
    try:
        parts = urllib.parse.urlsplit(url)
        _ = parts.port  # urlsplit checks the port only when it is read
    except ValueError as exc:
        problem = str(exc)
    else:
        if parts.scheme not in ("http", "https"):
            problem = "pipwise reads http://, https:// and file:// URLs"
        elif not parts.hostname:
            problem = "it names no host"
    if problem is None:
        return
    shown = redact_url(url)
    raise DiagnosticError(
        "invalid-index-url",
        "usage",
        f"{shown} is not a valid URL: {problem}",
        (f"url {shown}",),
        note="Correct the index URL or find-links location (from the command line, a "
        "requirements file or pip's configuration), or the link that led here.",
        details={"url": shown},
    )


def status_error(status: int, url: str) -> DiagnosticError:
    """The diagnosis for an HTTP error status: ``index-auth-required`` for 401 and 403,
    ``index-http-error`` otherwise."""
    shown = redact_url(url)
    try:
        phrase = f" {http.HTTPStatus(status).phrase}"
    except ValueError:
        phrase = ""
    evidence = (f"GET {shown} -> {status}{phrase}",)
    details = {"url": shown, "status": status}
    if status in (401, 403):
        return DiagnosticError(
            "index-auth-required",
            "network",
            f"{_host_port(url)} refused access to {shown} (HTTP {status})",
            evidence,
            note="The index wants credentials: put them in its URL "
            "(https://USER:TOKEN@host/simple/) or check that they are still valid.",
            details=details,
        )
    return DiagnosticError(
        "index-http-error",
        "network",
        f"{shown} answered HTTP {status}{phrase}",
        evidence,
        details=details,
    )


def local_file_error(path: Path, exc: OSError | None = None) -> DiagnosticError:
    """The diagnosis for a local file that cannot be read: ``local-file-not-found`` when it is
    missing (``exc`` None, or a not-found error), ``local-file-unreadable`` otherwise."""
    if exc is None:
        exc = FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(path))
    reason = exc.strerror or str(exc)
    details: dict[str, object] = {"path": str(path), "errno": exc.errno}
    if isinstance(exc, FileNotFoundError | NotADirectoryError):
        return DiagnosticError(
            "local-file-not-found",
            "environment",
            f"{path} does not exist",
            (f"open {path}: {reason}",),
            note="A local index, find-links location or requirement names this file; "
            "check that the path is right and the file was not moved or deleted.",
            details=details,
        )
    return DiagnosticError(
        "local-file-unreadable",
        "environment",
        f"{path} cannot be read: {reason}",
        (f"open {path}: {reason}",),
        note="Check the file's permissions, and that it is a file and not a directory.",
        details=details,
    )


class _Digests:
    """Running digests of a stream: sha256 always, plus every algorithm the caller pinned that
    this Python has (SHAKE digests have no fixed length, so they cannot be pinned)."""

    def __init__(self, names: Iterable[str]) -> None:
        wanted = {"sha256", *(name.lower() for name in names)} & hashlib.algorithms_available
        self._hashers = {name: hashlib.new(name) for name in wanted if not name.startswith("shake")}
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self.size += len(chunk)
        for hasher in self._hashers.values():
            hasher.update(chunk)

    def verify(self, expected: Mapping[str, str], url: str) -> None:
        """Raise ``hash-mismatch`` unless every known algorithm in ``expected`` matches, and
        ``hash-unverifiable`` when ``expected`` names only algorithms this Python lacks."""
        checked = False
        for name, want in expected.items():
            hasher = self._hashers.get(name.lower())
            if hasher is None:
                continue
            got = hasher.hexdigest()
            if got != want.lower():
                raise _hash_mismatch(url, name, want, got, self.size)
            checked = True
        if expected and not checked:
            raise _hash_unverifiable(url, sorted(expected))


def _hash_mismatch(url: str, name: str, want: str, got: str, size: int) -> DiagnosticError:
    shown = redact_url(url)
    return DiagnosticError(
        "hash-mismatch",
        "integrity",
        f"{link_filename(url)} does not match its expected {name} hash",
        (
            f"expected {name}={want}",
            f"actual   {name}={got}",
            f"size     {size} bytes",
            f"url      {shown}",
        ),
        note="The file was damaged in transit or is not the file the hash was published for; "
        "it was not used.",
        details={"url": shown, "algorithm": name, "expected": want, "actual": got, "size": size},
    )


def _hash_unverifiable(url: str, names: list[str]) -> DiagnosticError:
    shown = redact_url(url)
    return DiagnosticError(
        "hash-unverifiable",
        "integrity",
        f"{link_filename(url)} cannot be checked: this Python has none of its hash algorithms "
        f"({', '.join(names)})",
        (f"expected hashes {', '.join(names)}", f"url {shown}"),
        note="The file was not used. Pin a hash this Python supports (sha256 is always "
        "available) where the hash was given.",
        details={"url": shown, "algorithms": names},
    )


def check_bytes(data: bytes, hashes: Mapping[str, str], *, url: str) -> None:
    """Raise ``hash-mismatch`` unless ``data`` (fetched from ``url``) matches ``hashes``."""
    digests = _Digests(hashes)
    digests.update(data)
    digests.verify(hashes, url)


def check_file(path: Path, hashes: Mapping[str, str], *, url: str) -> None:
    """Raise ``hash-mismatch`` unless the file at ``path`` (from ``url``) matches ``hashes``;
    a file that cannot be read is a `local_file_error`."""
    digests = _Digests(hashes)
    for chunk in _read_chunks(path):
        digests.update(chunk)
    digests.verify(hashes, url)


def _read_chunks(path: Path) -> Iterator[bytes]:
    """The bytes of a local file; failures to read it (and only those) are diagnosed."""
    try:
        with path.open("rb") as file:
            while chunk := file.read(_CHUNK):
                yield chunk
    except OSError as exc:
        raise local_file_error(path, exc) from exc


def _host_port(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname}:{port}"


class HttpFetcher:
    """`Fetcher` over a thread-safe urllib3 pool, with TLS verified by the system trust store.

    ``cert`` adds a CA bundle (file or directory) to the trust store; ``client_cert`` is a PEM
    file holding a client certificate and its key; ``trusted_hosts`` (``host`` or
    ``host:port``) are reached over HTTPS without verification. ``proxy`` is used for every
    request. Credentials in a URL (``https://user:token@host/``) become basic auth.
    """

    def __init__(
        self,
        *,
        timeout: float = 15.0,
        retries: int = 3,
        cert: str | os.PathLike[str] | None = None,
        client_cert: str | os.PathLike[str] | None = None,
        proxy: str | None = None,
        trusted_hosts: Iterable[str] = (),
        pool_size: int = 16,
        user_agent: str = f"pipwise/{__version__}",
    ) -> None:
        self.timeout = timeout
        self.retries = retries
        self._settings: dict[str, Any] = {
            "timeout": timeout,
            "retries": retries,
            "cert": cert,
            "client_cert": client_cert,
            "proxy": proxy,
            "trusted_hosts": frozenset(host.lower() for host in trusted_hosts),
            "pool_size": pool_size,
            "user_agent": user_agent,
        }
        self._lock = threading.Lock()
        self._transport: Transport | None = None

    def _network(self) -> Transport:
        """The urllib3 transport, created at the first network request: loading the HTTP and
        TLS stacks and the trust store costs tens of milliseconds that a run reading only
        file:// indexes need not pay."""
        with self._lock:
            if self._transport is None:
                from pipwise.net._transport import Transport

                self._transport = Transport(**self._settings)
            return self._transport

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every pooled connection."""
        with self._lock:
            transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()

    def get(self, url: str, *, accept: str | None = None) -> Response:
        """GET ``url``; a ``file://`` directory URL reads its ``index.html`` (as pip does for
        local index pages). A missing local file is a 404 response (a project a local index
        lacks); one that exists but cannot be read is a `local_file_error`."""
        if url.startswith("file:"):
            return _read_file(url)
        check_url(url)
        return self._network().get(url, accept=accept)

    def download(self, url: str, dest: Path, *, hashes: Mapping[str, str] | None = None) -> Path:
        """Stream ``url`` into a temporary file beside ``dest``, hashing as it goes, and rename
        it to ``dest`` only once ``hashes`` are verified.

        ``file://`` sources are copied the same way, so ``dest`` always holds a checked copy;
        callers that can use a local file in place check it with `check_file` instead.
        """
        expected = hashes or {}
        digests = _Digests(expected)
        dest.parent.mkdir(parents=True, exist_ok=True)
        import tempfile  # only downloads need it; it costs a few ms at start-up

        fd, name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
        part = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:

                def sink(chunk: bytes) -> None:
                    out.write(chunk)
                    digests.update(chunk)

                self._copy(url, sink)
            digests.verify(expected, url)
            part.replace(dest)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        return dest

    def _copy(self, url: str, sink: Callable[[bytes], None]) -> None:
        if url.startswith("file:"):
            for chunk in _read_chunks(url_to_path(url)):
                sink(chunk)
            return
        check_url(url)
        self._network().stream(url, sink)


def _read_file(url: str) -> Response:
    path = url_to_path(url)
    if path.is_dir():
        path = path / "index.html"
    try:
        body = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return Response(url, 404, {}, b"")
    except OSError as exc:
        raise local_file_error(path, exc) from exc
    return Response(url, 200, {}, body)
