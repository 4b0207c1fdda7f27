"""Minimal HTTP plumbing for the WSGI app: request parsing, responses, Entra/Graph error bodies."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

MAX_BODY = 1024 * 1024
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class BodyTooLarge(Exception):
    """The request body is over ``MAX_BODY``."""


@dataclass
class Request:
    method: str
    path: str
    query_string: str
    headers: dict[str, str]  # lower-case names
    body: bytes = b""
    cookies: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_environ(cls, environ: dict[str, Any]) -> Request:
        headers = {
            key[5:].replace("_", "-").lower(): str(value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = str(environ["CONTENT_TYPE"])
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY:
            raise BodyTooLarge
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        return cls(
            method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
            path=str(environ.get("PATH_INFO", "/")) or "/",
            query_string=str(environ.get("QUERY_STRING", "")),
            headers=headers,
            body=body,
            cookies=_cookies(headers.get("cookie", "")),
        )

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query_string, keep_blank_values=True)

    def form(self) -> list[tuple[str, str]]:
        """The body as form fields (empty unless it is application/x-www-form-urlencoded)."""
        if not self.is_form:
            return []
        return parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True)

    @property
    def is_form(self) -> bool:
        mime = self.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        return mime == "application/x-www-form-urlencoded"

    def bearer_token(self) -> str | None:
        scheme, _, value = self.headers.get("authorization", "").partition(" ")
        token = value.strip()
        return token if scheme.lower() == "bearer" and token else None

    @property
    def correlation_id(self) -> str:
        """The caller's ``client-request-id`` if a GUID (Entra echoes it), else a new one."""
        given = self.headers.get("client-request-id", "")
        return given.lower() if GUID.match(given) else str(uuid.uuid4())


def _cookies(header: str) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return {}
    return {name: morsel.value for name, morsel in jar.items()}


def single_values(pairs: Iterable[tuple[str, str]]) -> tuple[dict[str, str], str | None]:
    """Parameters as a dict, and the name of the first one given more than once (if any)."""
    values: dict[str, str] = {}
    for name, value in pairs:
        if name in values:
            return values, name
        values[name] = value
    return values, None


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def status_line(self) -> str:
        return f"{self.status} {HTTPStatus(self.status).phrase}"

    def header(self, name: str) -> str | None:
        lower = name.lower()
        return next((v for k, v in self.headers if k.lower() == lower), None)


def json_response(status: int, data: Any, headers: Iterable[tuple[str, str]] = ()) -> Response:
    extra = list(headers)
    body = json.dumps(data, separators=(",", ":")).encode()
    base = [("Content-Type", "application/json; charset=utf-8")]
    if not any(k.lower() == "cache-control" for k, _ in extra):
        base.append(("Cache-Control", "no-store"))
    return Response(status, body, [*base, *extra])


def html_response(
    status: int,
    html: str,
    headers: Iterable[tuple[str, str]] = (),
    *,
    frame_src: Iterable[str] = (),
) -> Response:
    """An HTML page; ``frame_src`` lists the origins its iframes may load."""
    frames = " ".join(frame_src)
    return Response(
        status,
        html.encode("utf-8"),
        [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Cache-Control", "no-store"),
            (
                "Content-Security-Policy",
                "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
                "frame-ancestors 'none'" + (f"; frame-src {frames}" if frames else ""),
            ),
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "no-referrer"),
            *headers,
        ],
    )


def redirect(location: str, headers: Iterable[tuple[str, str]] = ()) -> Response:
    return Response(302, b"", [("Location", location), ("Cache-Control", "no-store"), *headers])


def add_query(url: str, params: Iterable[tuple[str, str | None]]) -> str:
    """``url`` with the non-empty ``params`` appended to its query string."""
    query = urlencode([(k, v) for k, v in params if v])
    if not query:
        return url
    return f"{url}{'&' if '?' in url else '?'}{query}"


def timestamp() -> str:
    """Entra's error timestamp format, e.g. ``2025-11-26 23:01:02Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


@dataclass(frozen=True)
class Trace:
    trace_id: str
    correlation_id: str
    timestamp: str

    @classmethod
    def new(cls, correlation_id: str | None = None) -> Trace:
        return cls(str(uuid.uuid4()), correlation_id or str(uuid.uuid4()), timestamp())

    def suffix(self, separator: str = " ") -> str:
        return separator.join(
            [
                f"Trace ID: {self.trace_id}",
                f"Correlation ID: {self.correlation_id}",
                f"Timestamp: {self.timestamp}",
            ]
        )


def entra_error(
    status: int,
    error: str,
    code: int,
    message: str,
    *,
    base_url: str,
    correlation_id: str | None = None,
    headers: Iterable[tuple[str, str]] = (),
) -> Response:
    """A JSON error as Entra's token/discovery endpoints write it."""
    trace = Trace.new(correlation_id)
    body = {
        "error": error,
        "error_description": f"AADSTS{code}: {message} {trace.suffix()}",
        "error_codes": [code],
        "timestamp": trace.timestamp,
        "trace_id": trace.trace_id,
        "correlation_id": trace.correlation_id,
        "error_uri": f"{base_url}/error?code={code}",
    }
    return json_response(status, body, [("x-ms-request-id", trace.trace_id), *headers])


def graph_error(
    status: int, code: str, message: str, headers: Iterable[tuple[str, str]] = ()
) -> Response:
    """A JSON error as Microsoft Graph writes it."""
    request_id = str(uuid.uuid4())
    body = {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                "request-id": request_id,
                "client-request-id": request_id,
            },
        }
    }
    return json_response(status, body, [("request-id", request_id), *headers])


def entra_error_text(
    status: int, error: str, description: str, *, base_url: str, correlation_id: str | None = None
) -> Response:
    """An Entra JSON error whose ``error_description`` is given whole (used by test hooks)."""
    trace = Trace.new(correlation_id)
    codes = [int(code) for code in re.findall(r"AADSTS(\d+)", description)[:1]]
    body: dict[str, Any] = {
        "error": error,
        "error_description": description,
        "error_codes": codes,
        "timestamp": trace.timestamp,
        "trace_id": trace.trace_id,
        "correlation_id": trace.correlation_id,
    }
    if codes:
        body["error_uri"] = f"{base_url}/error?code={codes[0]}"
    return json_response(status, body, [("x-ms-request-id", trace.trace_id)])
