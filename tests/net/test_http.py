"""HttpFetcher against real local servers: pages, downloads, retries and network diagnoses."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import trustme

from pipwise.errors import DiagnosticError
from pipwise.net.http import HttpFetcher, Response, check_bytes, redact_url
from tests.support.background import ServesInBackground
from tests.support.index_server import IndexServer
from tests.support.wheels import WheelSpec, build_wheel, sha256_of


class _EchoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        target = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query).get("redirect")
        if target:  # /anything?redirect=URL answers 302 with that Location
            self.send_response(302)
            self.send_header("Location", target[0])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        headers = {key.lower(): value for key, value in self.headers.items()}
        body = json.dumps({"path": self.path, "headers": headers}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that abort TLS handshakes on purpose are not test failures."""


class EchoServer(ServesInBackground):
    """Answers every GET with its request line path and headers as JSON, or with a redirect to
    the URL in its ``redirect`` query parameter; HTTPS if given TLS."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self._server = _QuietServer(("127.0.0.1", 0), _EchoHandler)
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )


def echo(response: Response) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(response.body)
    return data


@pytest.fixture
def index(tmp_path: Path) -> Iterator[IndexServer]:
    build_wheel(WheelSpec("demo", "1.0"), tmp_path / "dists")
    with IndexServer(tmp_path / "dists") as server:
        yield server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_redact_url_hides_passwords_and_tokens() -> None:
    assert redact_url("https://u:p%40ss@h.example/simple/") == "https://u:****@h.example/simple/"
    assert redact_url("https://tok@h.example:8443/x") == "https://****@h.example:8443/x"
    assert redact_url("https://h.example/simple/") == "https://h.example/simple/"


def test_get_follows_redirects_and_lowercases_headers(
    fetcher: HttpFetcher, index: IndexServer
) -> None:
    response = fetcher.get(f"{index.html_index_url}/Demo", accept="text/html")
    assert response.status == 200
    assert response.url == f"{index.html_index_url}/demo/"
    assert response.content_type == "application/vnd.pypi.simple.v1+html"
    assert b"demo-1.0-py3-none-any.whl" in response.body
    assert index.requests == ["/html/simple/Demo", "/html/simple/demo/"]


def test_get_returns_error_statuses(fetcher: HttpFetcher, index: IndexServer) -> None:
    response = fetcher.get(f"{index.index_url}/missing/")
    assert (response.status, response.ok) == (404, False)


def test_get_retries_server_errors(index: IndexServer) -> None:
    index.fail("/simple/demo/", 503, times=2)
    with HttpFetcher(timeout=5, retries=2) as fetcher:
        assert fetcher.get(f"{index.index_url}/demo/").status == 200
    assert index.requests.count("/simple/demo/") == 3


def test_get_returns_the_last_server_error_when_retries_run_out(index: IndexServer) -> None:
    index.fail("/simple/demo/", 502, times=5)
    with HttpFetcher(retries=1) as fetcher:
        assert fetcher.get(f"{index.index_url}/demo/").status == 502
    assert index.requests.count("/simple/demo/") == 2


def test_credentials_become_basic_auth_and_stay_on_the_page_url(fetcher: HttpFetcher) -> None:
    with EchoServer() as server:
        url = server.url.replace("://", "://alice:s%40cret@") + "/simple/"
        response = fetcher.get(url)
    assert response.url == url
    headers = echo(response)["headers"]
    assert headers["authorization"] == "Basic YWxpY2U6c0BjcmV0"  # alice:s@cret
    assert headers["user-agent"].startswith("pipwise/")


def redirect_to(server: EchoServer, target: str, *, auth: str = "alice:pw@") -> str:
    """A URL on ``server``, with credentials, that redirects to ``target``."""
    query = urllib.parse.urlencode({"redirect": target})
    return f"{server.url.replace('://', f'://{auth}')}/start?{query}"


def test_absolute_redirects_on_the_same_host_keep_credentials(fetcher: HttpFetcher) -> None:
    with EchoServer() as server:
        response = fetcher.get(redirect_to(server, f"{server.url}/simple/demo/"))
    assert echo(response)["path"] == "/simple/demo/"
    assert echo(response)["headers"]["authorization"] == "Basic YWxpY2U6cHc="  # alice:pw
    assert response.url == server.url.replace("://", "://alice:pw@") + "/simple/demo/"


def test_redirects_to_another_host_drop_credentials(fetcher: HttpFetcher) -> None:
    with EchoServer() as server:
        other = server.url.replace("127.0.0.1", "localhost")  # the same server, by another name
        response = fetcher.get(redirect_to(server, f"{other}/simple/demo/"))
    assert echo(response)["path"] == "/simple/demo/"
    assert "authorization" not in echo(response)["headers"]
    assert response.url == f"{other}/simple/demo/"


def test_credentials_follow_an_https_upgrade_only_between_default_ports() -> None:
    from pipwise.net._transport import _redirect_target

    url = "http://u:pw@example.org/simple/"
    assert (
        _redirect_target(url, "https://example.org/simple/") == "https://u:pw@example.org/simple/"
    )
    assert _redirect_target(url, "https://example.org:8443/x") == "https://example.org:8443/x"
    assert _redirect_target(url, "https://evil.example/x") == "https://evil.example/x"
    secure = "https://u:pw@example.org/simple/"
    assert _redirect_target(secure, "http://example.org/simple/") == "http://example.org/simple/"


def test_proxy_receives_absolute_urls_and_its_credentials() -> None:
    with EchoServer() as proxy:
        proxy_url = proxy.url.replace("://", "://bob:pw@")
        with HttpFetcher(proxy=proxy_url) as fetcher:
            response = fetcher.get("http://index.invalid/simple/demo/")
    request = echo(response)
    assert request["path"] == "http://index.invalid/simple/demo/"
    assert request["headers"]["proxy-authorization"] == "Basic Ym9iOnB3"  # bob:pw


def test_file_urls_read_files_and_directory_index_pages(
    fetcher: HttpFetcher, tmp_path: Path
) -> None:
    (tmp_path / "page").mkdir()
    (tmp_path / "page" / "index.html").write_text("<a href='x.whl'>x</a>")
    page = fetcher.get((tmp_path / "page").as_uri() + "/")
    assert (page.status, page.body) == (200, b"<a href='x.whl'>x</a>")
    assert fetcher.get((tmp_path / "nope.html").as_uri()).status == 404
    assert fetcher.get(tmp_path.as_uri()).status == 404  # a directory without index.html


def test_download_verifies_and_renames(
    fetcher: HttpFetcher, index: IndexServer, tmp_path: Path
) -> None:
    wheel = index.directory / "demo-1.0-py3-none-any.whl"
    dest = tmp_path / "cache" / wheel.name
    url = f"{index.url}/files/{wheel.name}"
    assert fetcher.download(url, dest, hashes={"sha256": sha256_of(wheel)}) == dest
    assert dest.read_bytes() == wheel.read_bytes()
    assert [p.name for p in dest.parent.iterdir()] == [wheel.name]


def test_download_hash_mismatch_is_diagnosed(
    fetcher: HttpFetcher, index: IndexServer, tmp_path: Path
) -> None:
    wheel = index.directory / "demo-1.0-py3-none-any.whl"
    dest = tmp_path / "cache" / wheel.name
    url = f"{index.url.replace('://', '://u:hunter2@')}/files/{wheel.name}"
    with pytest.raises(DiagnosticError) as caught:
        fetcher.download(url, dest, hashes={"sha256": "ab" * 32})
    err = caught.value
    assert (err.code, err.kind) == ("hash-mismatch", "integrity")
    assert f"expected sha256={'ab' * 32}" in err.evidence
    assert f"actual   sha256={sha256_of(wheel)}" in err.evidence
    assert f"size     {wheel.stat().st_size} bytes" in err.evidence
    assert "hunter2" not in json.dumps(err.to_json())
    assert list(dest.parent.iterdir()) == []  # neither the file nor its partial download


def test_download_copies_file_urls_with_the_same_checks(
    fetcher: HttpFetcher, index: IndexServer, tmp_path: Path
) -> None:
    wheel = index.directory / "demo-1.0-py3-none-any.whl"
    dest = tmp_path / "copy.whl"
    fetcher.download(wheel.as_uri(), dest, hashes={"sha256": sha256_of(wheel)})
    assert dest.read_bytes() == wheel.read_bytes()
    with pytest.raises(DiagnosticError) as caught:
        fetcher.download((tmp_path / "gone.whl").as_uri(), dest, hashes=None)
    err = caught.value
    assert (err.code, err.kind) == ("local-file-not-found", "environment")
    assert err.details["path"] == str(tmp_path / "gone.whl")
    assert f"open {tmp_path / 'gone.whl'}: No such file or directory" in err.evidence


def test_local_files_that_exist_but_cannot_be_read_are_diagnosed(
    fetcher: HttpFetcher, tmp_path: Path
) -> None:
    (tmp_path / "page" / "index.html").mkdir(parents=True)  # a directory where a file belongs
    for read in (
        lambda: fetcher.get((tmp_path / "page").as_uri()),
        lambda: fetcher.download((tmp_path / "page").as_uri(), tmp_path / "x.whl"),
    ):
        with pytest.raises(DiagnosticError) as caught:
            read()
        assert (caught.value.code, caught.value.kind) == ("local-file-unreadable", "environment")
        assert "Is a directory" in caught.value.cause


@pytest.mark.parametrize(
    ("status", "code"), [(404, "index-http-error"), (401, "index-auth-required")]
)
def test_download_http_errors(
    fetcher: HttpFetcher, index: IndexServer, tmp_path: Path, status: int, code: str
) -> None:
    index.fail("/files/demo-1.0-py3-none-any.whl", status)
    url = f"{index.url}/files/demo-1.0-py3-none-any.whl"
    with pytest.raises(DiagnosticError) as caught:
        fetcher.download(url, tmp_path / "x.whl")
    assert caught.value.code == code
    assert caught.value.details["status"] == status


@pytest.mark.parametrize(
    "hashes", [{"nosuchhash": "ab"}, {"shake_128": "ab"}, {"NoSuchHash": "ab", "other": "cd"}]
)
def test_hashes_this_python_cannot_check_are_refused(hashes: dict[str, str]) -> None:
    with pytest.raises(DiagnosticError) as caught:
        check_bytes(b"data", hashes, url="https://example.org/files/demo-1.0.tar.gz")
    err = caught.value
    assert (err.code, err.kind) == ("hash-unverifiable", "integrity")
    assert err.details["algorithms"] == sorted(hashes)
    assert all(name in err.cause for name in hashes)


def test_unknown_hashes_beside_a_known_one_are_skipped() -> None:
    sha256 = "3a6eb0790f39ac87c94f3856b2dd2c5d110e6811602261a9a923d3bb23adc8b7"
    check_bytes(b"data", {"nosuchhash": "ab", "sha256": sha256}, url="x")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://u:hunter2@127.0.0.1:abc/simple/", "Port could not be cast"),
        ("http://127.0.0.1:99999/simple/", "out of range"),
        ("ftp://127.0.0.1/simple/", "http://, https:// and file://"),
        ("https:///simple/", "no host"),
    ],
)
def test_unusable_urls_are_usage_errors(fetcher: HttpFetcher, url: str, problem: str) -> None:
    for request in (lambda: fetcher.get(url), lambda: fetcher.download(url, Path("unused"))):
        with pytest.raises(DiagnosticError) as caught:
            request()
        err = caught.value
        assert (err.code, err.kind) == ("invalid-index-url", "usage")
        assert problem in err.cause
        assert err.details["url"] == redact_url(url)
        assert "hunter2" not in json.dumps(err.to_json())


def test_a_redirect_to_an_unusable_url_is_diagnosed(fetcher: HttpFetcher) -> None:
    with EchoServer() as server, pytest.raises(DiagnosticError) as caught:
        fetcher.get(redirect_to(server, "http://127.0.0.1:abc/simple/"))
    assert caught.value.code == "invalid-index-url"
    assert caught.value.details["url"] == "http://127.0.0.1:abc/simple/"


def test_check_bytes_accepts_matching_hashes_in_any_case() -> None:
    check_bytes(
        b"data",
        {"SHA256": "3A6EB0790F39AC87C94F3856B2DD2C5D110E6811602261A9A923D3BB23ADC8B7"},
        url="x",
    )


def test_refused_connection_fails_fast() -> None:
    port = free_port()
    url = f"http://user:hunter2@127.0.0.1:{port}/simple/demo/"
    started = time.monotonic()
    with HttpFetcher(retries=5, timeout=10) as fetcher, pytest.raises(DiagnosticError) as caught:
        fetcher.get(url)
    assert time.monotonic() - started < 3
    err = caught.value
    assert (err.code, err.kind) == ("index-unreachable", "network")
    assert f"127.0.0.1:{port}" in err.cause
    assert "hunter2" not in json.dumps(err.to_json())


def test_silent_server_times_out_with_the_timeout_and_attempts() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)  # accepts connections in the kernel, never answers
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/simple/"
        with (
            HttpFetcher(timeout=0.2, retries=1) as fetcher,
            pytest.raises(DiagnosticError) as caught,
        ):
            fetcher.get(url)
    err = caught.value
    assert err.code == "index-timeout"
    assert (err.details["timeout"], err.details["attempts"]) == (0.2, 2)
    assert "0.2s" in err.cause


def test_dns_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_dns(*args: object, **kwargs: object) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    with HttpFetcher(retries=0) as fetcher, pytest.raises(DiagnosticError) as caught:
        fetcher.get("https://index.invalid/simple/")
    assert caught.value.code == "dns-failure"
    assert "index.invalid" in caught.value.cause


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def https_server(ca: trustme.CA) -> Iterator[EchoServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with EchoServer(context) as server:
        yield server


def test_tls_is_verified_against_the_trust_store(https_server: EchoServer) -> None:
    with HttpFetcher(retries=0) as fetcher, pytest.raises(DiagnosticError) as caught:
        fetcher.get(https_server.url + "/simple/")
    assert caught.value.code == "tls-error"


def test_extra_ca_bundle_is_trusted(
    https_server: EchoServer, ca: trustme.CA, tmp_path: Path
) -> None:
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    with HttpFetcher(cert=bundle) as fetcher:
        assert fetcher.get(https_server.url + "/simple/").status == 200


def test_trusted_hosts_skip_verification_quietly(https_server: EchoServer) -> None:
    with HttpFetcher(trusted_hosts=["127.0.0.1"]) as fetcher:
        assert fetcher.get(https_server.url + "/simple/").status == 200


@pytest.mark.parametrize("bad", ["cert", "client_cert"])
def test_the_tls_file_that_cannot_be_loaded_is_named(
    ca: trustme.CA, tmp_path: Path, bad: str
) -> None:
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    client = tmp_path / "client.pem"
    ca.issue_cert("client.example").private_key_and_cert_chain_pem.write_to_path(str(client))
    broken = tmp_path / "broken.pem"
    broken.write_text("not a certificate\n")
    cert, client_cert = (broken, client) if bad == "cert" else (bundle, broken)
    with (
        HttpFetcher(cert=cert, client_cert=client_cert) as fetcher,
        pytest.raises(DiagnosticError) as caught,
    ):
        fetcher.get("http://127.0.0.1:1/simple/")  # the TLS files load before any connection
    err = caught.value
    assert (err.code, err.kind) == ("tls-config-error", "usage")
    assert str(broken) in err.cause
    assert err.evidence == (f"{bad} = {broken}",)


def test_a_missing_cert_is_reported_at_the_first_network_request(tmp_path: Path) -> None:
    missing = tmp_path / "missing.pem"
    with HttpFetcher(cert=missing) as fetcher:
        assert fetcher.get((tmp_path / "nope").as_uri()).status == 404  # file:// needs no TLS
        with pytest.raises(DiagnosticError) as caught:
            fetcher.get("http://127.0.0.1:1/simple/")
    assert caught.value.code == "tls-config-error"
    assert f"{missing}: [Errno 2]" in caught.value.cause
