"""A real package index for tests: PEP 503 HTML and PEP 691 JSON, served over HTTP or as files."""

from __future__ import annotations

import hashlib
import html
import json
import threading
import zipfile
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypedDict
from urllib.parse import quote, unquote, urlsplit

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from tests.support.background import ServesInBackground

__all__ = ["Annotation", "IndexServer", "wheel_metadata", "write_simple_index"]

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "application/vnd.pypi.simple.v1+html"


class Annotation(TypedDict, total=False):
    """What an index says about one file beyond its name and hash."""

    requires_python: str
    #: True for yanked without a reason, or the reason.
    yanked: bool | str


def _project(filename: str) -> str | None:
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[0]
        return parse_sdist_filename(filename)[0]
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None


def _projects(directory: Path) -> dict[str, list[Path]]:
    projects: dict[str, list[Path]] = {}
    for path in sorted(directory.iterdir()):
        name = _project(path.name)
        if name is not None:
            projects.setdefault(name, []).append(path)
    return projects


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def wheel_metadata(path: Path) -> bytes:
    """The ``METADATA`` file inside the wheel at ``path``."""
    with zipfile.ZipFile(path) as archive:
        (member,) = (n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return archive.read(member)


class _Page:
    """The files of one project as an index page, with links relative to the page."""

    def __init__(
        self,
        files: list[Path],
        files_prefix: str,
        annotations: Mapping[str, Annotation],
        metadata: bool,
    ) -> None:
        self.files = files
        self.prefix = files_prefix
        self.annotations = annotations
        self.metadata = metadata

    def _metadata_hash(self, path: Path) -> str | None:
        if not (self.metadata and path.name.endswith(".whl")):
            return None
        return _sha256(wheel_metadata(path))

    def html(self) -> str:
        anchors = []
        for path in self.files:
            href = f"{self.prefix}{quote(path.name)}#sha256={_sha256(path.read_bytes())}"
            attrs = [f'href="{html.escape(href)}"']
            note = self.annotations.get(path.name, {})
            if "requires_python" in note:
                attrs.append(f'data-requires-python="{html.escape(note["requires_python"])}"')
            yanked = note.get("yanked")
            if yanked is True:
                attrs.append('data-yanked=""')  # pip ignores a bare attribute
            elif yanked:
                attrs.append(f'data-yanked="{html.escape(yanked)}"')
            if (digest := self._metadata_hash(path)) is not None:
                attrs.append(f'data-core-metadata="sha256={digest}"')
                attrs.append(f'data-dist-info-metadata="sha256={digest}"')
            anchors.append(f"<a {' '.join(attrs)}>{html.escape(path.name)}</a><br/>")
        body = "\n".join(anchors)
        return f"<!DOCTYPE html>\n<html><body>\n{body}\n</body></html>\n"

    def json(self, name: str) -> dict[str, Any]:
        files = []
        for path in self.files:
            note = self.annotations.get(path.name, {})
            data = path.read_bytes()
            entry: dict[str, Any] = {
                "filename": path.name,
                "url": f"{self.prefix}{quote(path.name)}",
                "hashes": {"sha256": _sha256(data)},
                "requires-python": note.get("requires_python"),
                "yanked": note.get("yanked", False),
                "size": len(data),
                "upload-time": "2024-01-01T00:00:00.000000Z",
            }
            if (digest := self._metadata_hash(path)) is not None:
                entry["core-metadata"] = entry["dist-info-metadata"] = {"sha256": digest}
            files.append(entry)
        return {"meta": {"api-version": "1.1"}, "name": name, "files": files}


def write_simple_index(
    root: Path,
    *,
    annotations: Mapping[str, Annotation] | None = None,
    metadata: bool = False,
) -> str:
    """Write ``root/simple/<name>/index.html`` for the dists in ``root/files``, shaped like the
    machine index in /opt/pypi (``../../files/x.whl#sha256=...`` hrefs); return the index URL.

    With ``metadata``, each wheel gets a PEP 658 ``.metadata`` file beside it.
    """
    simple = root / "simple"
    projects = _projects(root / "files")
    for name, files in projects.items():
        page = _Page(files, "../../files/", annotations or {}, metadata)
        (simple / name).mkdir(parents=True, exist_ok=True)
        (simple / name / "index.html").write_text(page.html())
        if metadata:
            for path in files:
                if path.name.endswith(".whl"):
                    path.with_name(path.name + ".metadata").write_bytes(wheel_metadata(path))
    listing = "".join(f'<a href="{name}/">{name}</a>\n' for name in projects)
    simple.mkdir(parents=True, exist_ok=True)
    (simple / "index.html").write_text(f"<html><body>\n{listing}</body></html>\n")
    return simple.as_uri()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    index: IndexServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle's algorithm each response would
    # wait ~40 ms for the client's delayed ACK.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the request log is on the IndexServer."""

    def _send(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self.send_response(301)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        index = self.server.index
        path = unquote(urlsplit(self.path).path)
        index.requests.append(path)
        if (status := index.take_failure(path)) is not None:
            self._send(status, f"injected failure {status}\n".encode())
            return
        form = None
        for prefix in ("/json", "/html"):
            if path.startswith(f"{prefix}/simple/"):
                form, path = prefix[1:], path[len(prefix) :]
        base = "" if form is None else f"/{form}"
        if form is None:
            form = "json" if JSON_TYPE in self.headers.get("Accept", "") else "html"
        if path == "/simple/":
            self._root(form)
        elif path.startswith("/simple/"):
            self._project(base, path.removeprefix("/simple/"), form)
        elif path.startswith("/files/"):
            self._file(path.removeprefix("/files/"))
        else:
            self._send(404, b"not found\n")

    def _root(self, form: str) -> None:
        names = sorted(_projects(self.server.index.directory))
        if form == "json":
            data = {"meta": {"api-version": "1.1"}, "projects": [{"name": n} for n in names]}
            self._send(200, json.dumps(data).encode(), JSON_TYPE)
        else:
            listing = "".join(f'<a href="{n}/">{n}</a>\n' for n in names)
            self._send(200, f"<html><body>\n{listing}</body></html>\n".encode(), HTML_TYPE)

    def _project(self, base: str, rest: str, form: str) -> None:
        index = self.server.index
        name = rest.removesuffix("/")
        if "/" in name:
            self._send(404, b"not found\n")
        elif not rest.endswith("/") or canonicalize_name(name) != name:
            self._redirect(f"{base}/simple/{canonicalize_name(name)}/")
        elif not (files := _projects(index.directory).get(name)):
            self._send(404, b"no such project\n")
        else:
            prefix = "../" * (base.count("/") + 2) + "files/"
            page = _Page(files, prefix, index.annotations, index.metadata)
            if form == "json":
                self._send(200, json.dumps(page.json(name)).encode(), JSON_TYPE)
            else:
                self._send(200, page.html().encode(), HTML_TYPE)

    def _file(self, filename: str) -> None:
        index = self.server.index
        path = index.directory / filename
        if filename.endswith(".metadata") and index.metadata:
            wheel = path.with_name(filename.removesuffix(".metadata"))
            if wheel.is_file():
                self._send(200, wheel_metadata(wheel))
                return
        if "/" not in filename and path.is_file():
            self._send(200, path.read_bytes(), "application/octet-stream")
        else:
            self._send(404, b"no such file\n")


class IndexServer(ServesInBackground):
    """A simple index on 127.0.0.1 serving the wheels and sdists in ``directory``.

    ``/simple/<name>/`` answers HTML or PEP 691 JSON by the Accept header; ``/json/simple/``
    and ``/html/simple/`` force one form. Files are under ``/files/``; with ``metadata``,
    wheels also have PEP 658 ``.metadata`` files. Pages are built per request, so files added
    later are listed. Every request path is appended to ``requests``.
    """

    def __init__(
        self,
        directory: Path,
        *,
        annotations: Mapping[str, Annotation] | None = None,
        metadata: bool = False,
    ) -> None:
        self.directory = directory
        self.annotations = dict(annotations or {})
        self.metadata = metadata
        self.requests: list[str] = []
        self._failures: dict[str, list[int]] = {}
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.index = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def index_url(self) -> str:
        return f"{self.url}/simple"

    @property
    def json_index_url(self) -> str:
        return f"{self.url}/json/simple"

    @property
    def html_index_url(self) -> str:
        return f"{self.url}/html/simple"

    def fail(self, path: str, status: int, times: int = 1) -> None:
        """Answer the next ``times`` requests for ``path`` with ``status``."""
        with self._lock:
            self._failures.setdefault(path, []).extend([status] * times)

    def take_failure(self, path: str) -> int | None:
        with self._lock:
            pending = self._failures.get(path)
            return pending.pop(0) if pending else None
