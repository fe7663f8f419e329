"""The HTTP seam: the `Fetcher` protocol, its urllib3 + truststore implementation, hash checks."""

from __future__ import annotations

import hashlib
import http
import os
import ssl
import tempfile
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

import truststore
import urllib3
from urllib3.connection import HTTPSConnection
from urllib3.connectionpool import ConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProxyError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.response import BaseHTTPResponse
from urllib3.util import Retry, Timeout, make_headers

from pipwise import __version__
from pipwise.errors import DiagnosticError

__all__ = [
    "Fetcher",
    "HttpFetcher",
    "Response",
    "check_bytes",
    "check_file",
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
        """GET an ``http(s)://`` or ``file://`` URL and return the response, whatever its status."""
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
    parts = urllib.parse.urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at:
        return url
    user, colon, _ = userinfo.partition(":")
    shown = f"{user}:****" if colon else "****"
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{shown}@{hostport}"))


def url_to_path(url: str) -> Path:
    """The local path a ``file://`` URL names."""
    return Path(urllib.request.url2pathname(urllib.parse.urlsplit(url).path))


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


class _Digests:
    """Running digests of a stream: sha256 always, plus every algorithm the caller pinned."""

    def __init__(self, names: Iterable[str]) -> None:
        wanted = {"sha256", *(name.lower() for name in names)} & hashlib.algorithms_available
        self._hashers = {name: hashlib.new(name) for name in wanted}
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self.size += len(chunk)
        for hasher in self._hashers.values():
            hasher.update(chunk)

    def verify(self, expected: Mapping[str, str], url: str) -> None:
        """Raise ``hash-mismatch`` unless every known algorithm in ``expected`` matches."""
        for name, want in expected.items():
            hasher = self._hashers.get(name.lower())
            if hasher is None:  # an algorithm this Python lacks cannot be checked
                continue
            got = hasher.hexdigest()
            if got != want.lower():
                raise _hash_mismatch(url, name, want, got, self.size)


def _hash_mismatch(url: str, name: str, want: str, got: str, size: int) -> DiagnosticError:
    shown = redact_url(url)
    filename = urllib.parse.unquote(urllib.parse.urlsplit(url).path.rpartition("/")[2])
    return DiagnosticError(
        "hash-mismatch",
        "integrity",
        f"{filename} does not match its expected {name} hash",
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


def check_bytes(data: bytes, hashes: Mapping[str, str], *, url: str) -> None:
    """Raise ``hash-mismatch`` unless ``data`` (fetched from ``url``) matches ``hashes``."""
    digests = _Digests(hashes)
    digests.update(data)
    digests.verify(hashes, url)


def check_file(path: Path, hashes: Mapping[str, str], *, url: str) -> None:
    """Raise ``hash-mismatch`` unless the file at ``path`` (from ``url``) matches ``hashes``."""
    digests = _Digests(hashes)
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            digests.update(chunk)
    digests.verify(hashes, url)


def _split_auth(url: str) -> tuple[str, str | None]:
    """``url`` without its userinfo, and the userinfo (percent-decoded) for basic auth."""
    parts = urllib.parse.urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at:
        return url, None
    return urllib.parse.urlunsplit(parts._replace(netloc=hostport)), urllib.parse.unquote(userinfo)


def _host_port(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname}:{port}"


def _file_status(exc: OSError) -> int | None:
    """The HTTP status a failed ``file://`` read stands for; None for real I/O errors."""
    if isinstance(exc, PermissionError):
        return 403
    if isinstance(exc, FileNotFoundError | NotADirectoryError | IsADirectoryError):
        return 404
    return None


def _is_refused(error: Exception | None) -> bool:
    return isinstance(error, NewConnectionError) and isinstance(
        error.__cause__, ConnectionRefusedError
    )


class _FailFastRetry(Retry):
    """urllib3 retries, except that a refused connection is retried once, at once: nothing is
    listening, and backing off would only make the user wait for the same answer."""

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        new = super().increment(method, url, response, error, _pool, _stacktrace)
        if _is_refused(error) and new.connect:
            new.connect = 0
        return new


class _TrustedHostConnection(HTTPSConnection):
    """HTTPS to a ``--trusted-host``: unverified by the user's choice, so urllib3 need not warn
    (its warning would otherwise fire on every request)."""

    def connect(self) -> None:
        super().connect()
        self.is_verified = True


class _TrustedHostPool(HTTPSConnectionPool):
    ConnectionCls = _TrustedHostConnection


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
        self._proxy = proxy
        self._trusted = frozenset(host.lower() for host in trusted_hosts)
        self._user_agent = user_agent
        self._retry = _FailFastRetry(
            total=None,
            connect=retries,
            read=retries,
            status=retries,
            other=0,
            status_forcelist=(500, 502, 503, 504),
            backoff_factor=0.25,
            backoff_max=2.0,
            # A long Retry-After would stall an interactive install; our short backoff applies.
            respect_retry_after_header=False,
            raise_on_status=False,
        )
        self._timeout = Timeout(connect=timeout, read=timeout)
        for path in (cert, client_cert):
            if path is not None and not Path(path).exists():
                raise DiagnosticError(
                    "tls-config-error",
                    "usage",
                    f"cannot load the TLS certificate {path}: it does not exist",
                    (f"cert={cert}", f"client_cert={client_cert}"),
                )
        self._cert = cert
        self._client_cert = client_cert
        self._pool_size = pool_size
        self._pools_lock = threading.Lock()
        self._built: tuple[urllib3.PoolManager, urllib3.PoolManager | None] | None = None

    def _pools(self) -> tuple[urllib3.PoolManager, urllib3.PoolManager | None]:
        """The verified pool and the ``--trusted-host`` pool, built at the first request:
        loading the trust store costs tens of milliseconds a run that reads only file://."""
        with self._pools_lock:
            if self._built is None:
                self._built = self._build_pools()
            return self._built

    def _build_pools(self) -> tuple[urllib3.PoolManager, urllib3.PoolManager | None]:
        cert, client_cert = self._cert, self._client_cert
        verified = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        unverified = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        unverified.check_hostname = False
        unverified.verify_mode = ssl.CERT_NONE
        try:
            if cert is not None:
                if Path(cert).is_dir():
                    verified.load_verify_locations(capath=cert)
                else:
                    verified.load_verify_locations(cafile=cert)
            if client_cert is not None:
                verified.load_cert_chain(client_cert)
                unverified.load_cert_chain(client_cert)
        except (OSError, ssl.SSLError) as exc:
            raise DiagnosticError(
                "tls-config-error",
                "usage",
                f"cannot load the TLS certificate {cert or client_cert}: {exc}",
                (f"cert={cert}", f"client_cert={client_cert}"),
            ) from exc
        pool = self._make_pool(verified, self._pool_size)
        trusted_pool = self._make_pool(unverified, self._pool_size) if self._trusted else None
        if trusted_pool is not None:
            trusted_pool.pool_classes_by_scheme = {
                **trusted_pool.pool_classes_by_scheme,
                "https": _TrustedHostPool,
            }
        return pool, trusted_pool

    def _make_pool(self, context: ssl.SSLContext, size: int) -> urllib3.PoolManager:
        if self._proxy:
            proxy, auth = _split_auth(self._proxy)
            return urllib3.ProxyManager(
                proxy,
                num_pools=size,
                maxsize=size,
                ssl_context=context,
                proxy_headers=make_headers(proxy_basic_auth=auth) if auth else None,
            )
        return urllib3.PoolManager(num_pools=size, maxsize=size, ssl_context=context)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every pooled connection."""
        with self._pools_lock:
            built, self._built = self._built, None
        if built is not None:
            for pool in built:
                if pool is not None:
                    pool.clear()

    def get(self, url: str, *, accept: str | None = None) -> Response:
        """GET ``url``; a ``file://`` directory URL reads its ``index.html`` (as pip does for
        local index pages) and a missing file is a 404 response."""
        if url.startswith("file:"):
            return _read_file(url)
        final, response = self._open(url, {"Accept": accept} if accept else {}, stream=False)
        headers = {key.lower(): value for key, value in response.headers.items()}
        return Response(final, response.status, headers, response.data)

    def download(self, url: str, dest: Path, *, hashes: Mapping[str, str] | None = None) -> Path:
        """Stream ``url`` into a temporary file beside ``dest``, hashing as it goes, and rename
        it to ``dest`` only once ``hashes`` are verified.

        ``file://`` sources are copied the same way, so ``dest`` always holds a checked copy;
        callers that can use a local file in place check it with `check_file` instead.
        """
        expected = hashes or {}
        digests = _Digests(expected)
        dest.parent.mkdir(parents=True, exist_ok=True)
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
            try:
                with url_to_path(url).open("rb") as file:
                    while chunk := file.read(_CHUNK):
                        sink(chunk)
            except OSError as exc:
                status = _file_status(exc)
                if status is None:
                    raise
                raise status_error(status, url) from exc
            return
        # Raw bytes: a server's Content-Encoding must not alter the file we hash.
        _, response = self._open(url, {"Accept-Encoding": "identity"}, stream=True)
        try:
            if not 200 <= response.status < 300:
                raise status_error(response.status, url)
            for chunk in response.stream(_CHUNK, decode_content=False):
                sink(chunk)
        except HTTPError as exc:
            raise self._network_error(exc, url) from exc
        finally:
            response.release_conn()

    def _open(
        self, url: str, headers: Mapping[str, str], *, stream: bool
    ) -> tuple[str, BaseHTTPResponse]:
        """GET ``url``, following redirects here rather than in urllib3 so that each hop gets
        its own trusted-host decision and credentials stay with their host."""
        for _ in range(_MAX_REDIRECTS + 1):
            plain, auth = _split_auth(url)
            request_headers = {"User-Agent": self._user_agent, **headers}
            if auth:
                request_headers.update(make_headers(basic_auth=auth))
            try:
                response = self._pool_for(plain).request(
                    "GET",
                    plain,
                    headers=request_headers,
                    retries=self._retry,
                    timeout=self._timeout,
                    redirect=False,
                    preload_content=not stream,
                    decode_content=not stream,
                )
            except HTTPError as exc:
                raise self._network_error(exc, url) from exc
            location = response.get_redirect_location()
            if not location:
                return url, response
            response.drain_conn()
            url = urllib.parse.urljoin(url, location)
        raise DiagnosticError(
            "index-http-error",
            "network",
            f"more than {_MAX_REDIRECTS} redirects, ending at {redact_url(url)}",
            details={"url": redact_url(url)},
        )

    def _pool_for(self, url: str) -> urllib3.PoolManager:
        pool, trusted_pool = self._pools()
        parts = urllib.parse.urlsplit(url)
        if trusted_pool is not None and parts.hostname is not None:
            host = parts.hostname.lower()
            port = parts.port or (443 if parts.scheme == "https" else 80)
            if host in self._trusted or f"{host}:{port}" in self._trusted:
                return trusted_pool
        return pool

    def _network_error(self, exc: HTTPError, url: str) -> DiagnosticError:
        """Translate a urllib3 failure into a diagnosis that names the host and the URL."""
        shown = redact_url(url)
        where = _host_port(url)
        reason = exc.reason if isinstance(exc, MaxRetryError) and exc.reason else exc
        attempts = self.retries + 1
        details: dict[str, object] = {"url": shown, "host": where}
        evidence = [f"GET {shown}"]
        note = None
        if isinstance(reason, ProxyError) and self._proxy:
            code = "index-unreachable"
            cause = f"cannot reach {where} through the proxy {redact_url(self._proxy)}"
            evidence.append(f"proxy error: {reason.original_error}")
        elif isinstance(reason, NameResolutionError):
            code = "dns-failure"
            cause = f"cannot resolve the host name {urllib.parse.urlsplit(url).hostname}"
            evidence.append(str(reason.__cause__ or reason))
            note = "Check the host name in the URL, and this machine's DNS or network access."
        elif isinstance(reason, NewConnectionError):
            code = "index-unreachable"
            if _is_refused(reason):
                cause = f"connection refused by {where}"
                note = f"Nothing is listening on {where}: check the URL's host and port."
            else:
                cause = f"cannot connect to {where}: {reason.__cause__ or reason}"
        elif isinstance(reason, ConnectTimeoutError | ReadTimeoutError):
            code = "index-timeout"
            cause = f"{where} did not answer within {self.timeout:g}s ({attempts} attempts)"
            details |= {"timeout": self.timeout, "attempts": attempts}
            note = "A slow index may need a longer timeout; a proxy or firewall may drop traffic."
        elif isinstance(reason, SSLError):
            code = "tls-error"
            cause = f"TLS with {where} failed: {reason}"
            note = (
                "If the server uses a private certificate authority, pass its CA bundle "
                "as the `cert` setting."
            )
        else:
            code = "index-unreachable"
            cause = f"cannot talk to {where}: {reason}"
        return DiagnosticError(code, "network", cause, tuple(evidence), note=note, details=details)


def _read_file(url: str) -> Response:
    path = url_to_path(url)
    if path.is_dir():
        path = path / "index.html"
    try:
        body = path.read_bytes()
    except OSError as exc:
        status = _file_status(exc)
        if status is None:
            raise
        return Response(url, status, {}, b"")
    return Response(url, 200, {}, body)
