"""The network behind `HttpFetcher`: urllib3 pools with TLS verified by the system trust store,
retries that fail fast, redirects, and network failures translated into diagnoses. Imported at
the first network request, so runs that read only file:// never load the HTTP and TLS stacks."""

from __future__ import annotations

import os
import ssl
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Self

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

from pipwise.errors import DiagnosticError
from pipwise.net.http import (
    _CHUNK,
    _MAX_REDIRECTS,
    Response,
    _host_port,
    check_url,
    redact_url,
    status_error,
)

__all__ = ["Transport"]


def _split_auth(url: str) -> tuple[str, str | None]:
    """``url`` without its userinfo, and the userinfo (percent-decoded) for basic auth."""
    parts = urllib.parse.urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at:
        return url, None
    return urllib.parse.urlunsplit(parts._replace(netloc=hostport)), urllib.parse.unquote(userinfo)


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _redirect_target(url: str, location: str) -> str:
    """Where a redirect from ``url`` to ``location`` leads, with ``url``'s credentials kept
    when the target is the same host and port, or the same host upgraded from http's to
    https's default port; any other host never sees them (the rule of requests and pip)."""
    target = urllib.parse.urljoin(url, location)
    check_url(target)
    old, new = urllib.parse.urlsplit(url), urllib.parse.urlsplit(target)
    userinfo, at, _ = old.netloc.rpartition("@")
    if not at or "@" in new.netloc or old.hostname != new.hostname:
        return target
    old_port = old.port or _DEFAULT_PORTS.get(old.scheme)
    new_port = new.port or _DEFAULT_PORTS.get(new.scheme)
    upgrade = (old.scheme, old_port, new.scheme, new_port) == ("http", 80, "https", 443)
    if upgrade or (old.scheme, old_port) == (new.scheme, new_port):
        return urllib.parse.urlunsplit(new._replace(netloc=f"{userinfo}@{new.netloc}"))
    return target


def _is_refused(error: Exception | None) -> bool:
    return isinstance(error, NewConnectionError) and isinstance(
        error.__cause__, ConnectionRefusedError
    )


@contextmanager
def _loading(setting: str, what: str, path: str | os.PathLike[str]) -> Iterator[None]:
    """Turn a failure to load one TLS file into a diagnosis naming that file and setting."""
    try:
        yield
    except (OSError, ssl.SSLError) as exc:
        raise DiagnosticError(
            "tls-config-error",
            "usage",
            f"cannot load the TLS {what} {path}: {exc}",
            (f"{setting} = {path}",),
            note="cert is a PEM bundle of CA certificates (or a directory of them); "
            "client_cert is one PEM file holding the client certificate and its private key.",
            details={"setting": setting, "path": str(path)},
        ) from exc


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


class Transport:
    """Pooled, thread-safe GETs with the settings `HttpFetcher` was given."""

    def __init__(
        self,
        *,
        timeout: float,
        retries: int,
        cert: str | os.PathLike[str] | None,
        client_cert: str | os.PathLike[str] | None,
        proxy: str | None,
        trusted_hosts: frozenset[str],
        pool_size: int,
        user_agent: str,
    ) -> None:
        self.timeout = timeout
        self.retries = retries
        self._proxy = proxy
        self._trusted = trusted_hosts
        self._user_agent = user_agent
        self._cert = cert
        self._client_cert = client_cert
        self._pool_size = pool_size
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
        self._pool, self._trusted_pool = self._build_pools()

    def close(self) -> None:
        """Close every pooled connection."""
        self._pool.clear()
        if self._trusted_pool is not None:
            self._trusted_pool.clear()

    def get(self, url: str, *, accept: str | None) -> Response:
        """GET ``url`` whole; non-2xx statuses are returned, not raised."""
        final, response = self._open(url, {"Accept": accept} if accept else {}, stream=False)
        headers = {key.lower(): value for key, value in response.headers.items()}
        return Response(final, response.status, headers, response.data)

    def stream(self, url: str, sink: Callable[[bytes], None]) -> None:
        """GET ``url`` into ``sink`` chunk by chunk; a non-2xx status is a diagnosis."""
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

    def _build_pools(self) -> tuple[urllib3.PoolManager, urllib3.PoolManager | None]:
        verified = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        unverified = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        unverified.check_hostname = False
        unverified.verify_mode = ssl.CERT_NONE
        cert, client_cert = self._cert, self._client_cert
        if cert is not None:
            with _loading("cert", "CA bundle", cert):
                if Path(cert).is_dir():
                    verified.load_verify_locations(capath=cert)
                else:
                    verified.load_verify_locations(cafile=cert)
        if client_cert is not None:
            with _loading("client_cert", "client certificate", client_cert):
                verified.load_cert_chain(client_cert)
                unverified.load_cert_chain(client_cert)
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
            url = _redirect_target(url, location)
        raise DiagnosticError(
            "index-http-error",
            "network",
            f"more than {_MAX_REDIRECTS} redirects, ending at {redact_url(url)}",
            details={"url": redact_url(url)},
        )

    def _pool_for(self, url: str) -> urllib3.PoolManager:
        pool, trusted_pool = self._pool, self._trusted_pool
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
