"""HttpFetcher against real local servers: pages, downloads, retries and network diagnoses."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
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
    """Answers every GET with its request line path and headers as JSON; HTTPS if given TLS."""

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
def fetcher() -> Iterator[HttpFetcher]:
    with HttpFetcher(timeout=5, retries=2) as fetcher:
        yield fetcher


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


def test_get_retries_server_errors(fetcher: HttpFetcher, index: IndexServer) -> None:
    index.fail("/simple/demo/", 503, times=2)
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
    with pytest.raises(DiagnosticError, match="index-http-error"):
        fetcher.download((tmp_path / "gone.whl").as_uri(), dest, hashes=None)


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


def test_unreadable_cert_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(DiagnosticError) as caught:
        HttpFetcher(cert=tmp_path / "missing.pem")
    assert (caught.value.code, caught.value.kind) == ("tls-config-error", "usage")
