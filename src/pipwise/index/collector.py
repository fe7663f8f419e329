"""Fetch and parse the pages that list files: PEP 503 HTML, PEP 691 JSON and find-links."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, TypedDict, TypeVar, cast

from packaging.utils import canonicalize_name

from pipwise.dists import Link
from pipwise.errors import DiagnosticError
from pipwise.net.http import (
    Fetcher,
    Response,
    link_filename,
    local_file_error,
    redact_url,
    status_error,
    url_to_path,
)

__all__ = [
    "ACCEPT",
    "collect_find_links",
    "collect_project",
    "link_filename",
    "parse_html",
    "parse_json",
    "project_url",
    "split_hash_fragment",
]

logger = logging.getLogger(__name__)

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
#: PEP 691 content negotiation: JSON preferred, then the versioned HTML, then any HTML.
ACCEPT = f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"

_HASH_FRAGMENT = re.compile(r"(\w+)=(.+)")
#: PEP 503: a fragment names a hashlib algorithm guaranteed on every Python. Other fragments
#: (``#egg=name``, ``#md5sum``) are not hashes, even when they happen to look like one.
_FRAGMENT_HASHES = frozenset(hashlib.algorithms_guaranteed) - {"shake_128", "shake_256"}
_T = TypeVar("_T")

#: One entry of a PEP 691 ``files`` list.
_JsonFile = TypedDict(
    "_JsonFile",
    {
        "filename": str,
        "url": str,
        "hashes": dict[str, str],
        "requires-python": str | None,
        "yanked": bool | str,
        "core-metadata": bool | dict[str, str],
        "dist-info-metadata": bool | dict[str, str],
        "upload-time": str,
        "size": int,
    },
    total=False,
)


def project_url(index_url: str, name: str) -> str:
    """The PEP 503 page of ``name`` on ``index_url``: the normalized name plus a slash."""
    return f"{index_url.rstrip('/')}/{canonicalize_name(name)}/"


def collect_project(fetcher: Fetcher, index_url: str, name: str) -> list[Link]:
    """The files ``index_url`` lists for ``name``; empty when the index has no such project."""
    url = project_url(index_url, name)
    response = fetcher.get(url, accept=ACCEPT)
    if response.status == 404:
        return []
    return _parse_response(response)


def collect_find_links(fetcher: Fetcher, location: str) -> list[Link]:
    """The files a find-links location offers: every file of a local directory (given as a
    path or a ``file://`` URL), or the anchors of an HTML page (a local file or a URL).

    A local location that does not exist is skipped with a warning, as pip does, since stale
    entries in configuration files are common; a page that fails to load is an error.
    """
    path: Path | None
    if location.startswith("file:"):
        path = url_to_path(location)
    elif "://" in location:
        path = None
    else:
        path = Path(location).expanduser().resolve()
    if path is None:
        return _parse_response(fetcher.get(location, accept="text/html"))
    if path.is_dir():
        return [
            Link(url=child.as_uri(), filename=child.name, comes_from=path.as_uri())
            for child in sorted(path.iterdir())
            if child.is_file()
        ]
    if not path.exists():
        logger.warning("find-links location %s does not exist; skipping it", location)
        return []
    return _parse_response(fetcher.get(path.as_uri(), accept="text/html"))


def _parse_response(response: Response) -> list[Link]:
    if not response.ok:
        if response.url.startswith("file:"):  # the fetcher answers 404 for a missing file
            raise local_file_error(url_to_path(response.url))
        raise status_error(response.status, response.url)
    kind = response.content_type
    is_json = kind == JSON_TYPE or (not kind and response.body.lstrip().startswith(b"{"))
    if is_json:
        return parse_json(response.body, response.url)
    return parse_html(response.body.decode("utf-8", "replace"), response.url)


def split_hash_fragment(url: str) -> tuple[str, dict[str, str]]:
    """``url`` without its fragment, and the hash a ``#<algorithm>=<hex>`` fragment names
    (algorithm and digest lower-cased); no hash for any other fragment. A digest that is not
    valid hex is still returned, so the file fails its hash check rather than going unchecked.

    >>> split_hash_fragment("https://example.org/demo-1.0.tar.gz#SHA256=AB12")
    ('https://example.org/demo-1.0.tar.gz', {'sha256': 'ab12'})
    >>> split_hash_fragment("https://example.org/demo-1.0.tar.gz#egg=cafe")
    ('https://example.org/demo-1.0.tar.gz', {})
    """
    plain, _, fragment = url.partition("#")
    match = _HASH_FRAGMENT.fullmatch(fragment)
    if match is None or match[1].lower() not in _FRAGMENT_HASHES:
        return plain, {}
    return plain, {match[1].lower(): match[2].lower()}


def _core_metadata(core_metadata: _T, dist_info_metadata: _T) -> _T:
    """PEP 714: ``core-metadata`` wins; ``dist-info-metadata`` is read for older indexes."""
    return dist_info_metadata if core_metadata is None else core_metadata


def _metadata_attr(value: str | None) -> dict[str, str] | None:
    """PEP 658/714 ``data-core-metadata``: "true", or "<hash>=<hex>"; anything else still
    offers the file, without a hash (as pip reads it)."""
    if value is None:
        return None
    name, eq, digest = value.partition("=")
    return {name.lower(): digest.lower()} if eq else {}


class _AnchorParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.anchors: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.anchors.append(dict(attrs))
        elif tag == "base" and self.base is None:
            self.base = dict(attrs).get("href")


def parse_html(text: str, page_url: str) -> list[Link]:
    """The links of a PEP 503 page (attribute values arrive HTML-unescaped), resolved against
    ``page_url`` and any ``<base href>``."""
    parser = _AnchorParser()
    parser.feed(text)
    parser.close()
    base = urllib.parse.urljoin(page_url, parser.base) if parser.base else page_url
    comes_from = redact_url(page_url)
    links = []
    for attrs in parser.anchors:
        href = attrs.get("href")
        if not href:
            continue
        url, hashes = split_hash_fragment(urllib.parse.urljoin(base, href))
        links.append(
            Link(
                url=url,
                filename=link_filename(url),
                comes_from=comes_from,
                hashes=hashes,
                requires_python=attrs.get("data-requires-python") or None,
                yanked=(attrs["data-yanked"] or "") if "data-yanked" in attrs else None,
                metadata_hashes=_metadata_attr(
                    _core_metadata(
                        attrs.get("data-core-metadata"), attrs.get("data-dist-info-metadata")
                    )
                ),
            )
        )
    return links


def _invalid(page_url: str, problem: str) -> DiagnosticError:
    shown = redact_url(page_url)
    return DiagnosticError(
        "index-invalid-response",
        "network",
        f"{shown} is not a valid PEP 691 project page: {problem}",
        (f"GET {shown}",),
        details={"url": shown},
    )


#: PEP 691 file fields and the JSON types each may hold; null counts as absent.
_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "filename": (str,),
    "hashes": (dict,),
    "requires-python": (str,),
    "yanked": (bool, str),
    "core-metadata": (bool, dict),
    "dist-info-metadata": (bool, dict),
    "upload-time": (str,),
    "size": (int,),
}


def _json_file(raw: object, page_url: str) -> _JsonFile:
    """``raw`` checked against the types PEP 691 gives its fields, so that a malformed page is
    a diagnosis rather than a crash further on."""
    if not isinstance(raw, dict) or not isinstance(raw.get("url"), str):
        raise _invalid(page_url, f"file entry without a URL: {raw!r}")
    for key, types in _FIELD_TYPES.items():
        value = raw.get(key)
        if value is None:
            continue
        # type(), not isinstance(): JSON true is no size, and json.loads builds exact types.
        valid = type(value) in types and (
            not isinstance(value, dict)
            or all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
        )
        if not valid:
            raise _invalid(page_url, f"{key!r} of {raw['url']} is {json.dumps(value)}")
    return cast(_JsonFile, raw)


def _json_metadata(value: bool | dict[str, str] | None) -> dict[str, str] | None:
    if isinstance(value, dict):
        return {name.lower(): digest.lower() for name, digest in value.items()}
    return {} if value else None


def parse_json(body: bytes, page_url: str) -> list[Link]:
    """The files of a PEP 691 JSON project page, URLs resolved against ``page_url``."""
    try:
        data: Any = json.loads(body)
    except ValueError as exc:
        raise _invalid(page_url, f"not JSON ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise _invalid(page_url, 'no "files" list')
    meta = data.get("meta", {})
    if not isinstance(meta, dict):
        raise _invalid(page_url, f'"meta" is {json.dumps(meta)}, not an object')
    version = str(meta.get("api-version", "1.0"))
    if version.partition(".")[0] != "1":
        raise _invalid(page_url, f"API version {version} is not supported (only 1.x)")
    comes_from = redact_url(page_url)
    links = []
    for raw in data["files"]:
        entry = _json_file(raw, page_url)
        url, fragment_hashes = split_hash_fragment(urllib.parse.urljoin(page_url, entry["url"]))
        hashes = entry.get("hashes") or fragment_hashes
        # pip's reading of PEP 691: true is yanked without a reason, "" is not yanked.
        yanked = entry.get("yanked")
        links.append(
            Link(
                url=url,
                filename=entry.get("filename") or link_filename(url),
                comes_from=comes_from,
                hashes={name.lower(): digest.lower() for name, digest in hashes.items()},
                requires_python=entry.get("requires-python") or None,
                yanked=(yanked if isinstance(yanked, str) else "") if yanked else None,
                metadata_hashes=_json_metadata(
                    _core_metadata(entry.get("core-metadata"), entry.get("dist-info-metadata"))
                ),
                upload_time=entry.get("upload-time"),
                size=entry.get("size"),
            )
        )
    return links
