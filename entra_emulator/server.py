"""``EntraEmulator``: one emulated tenant served by a threaded ``wsgiref`` server."""

from __future__ import annotations

import ipaddress
import re
import socketserver
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from cryptography.hazmat.primitives.asymmetric import rsa

from .app import make_app
from .directory import Directory
from .graph import GRAPH_MODES
from .keys import KeyRing
from .people import Person, load_people
from .sign_out import check_front_channel_urls
from .store import Store

TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,99}$")
IdTokenHook = Callable[[dict[str, Any], dict[str, Any]], "str | None"]


def is_loopback(host: str) -> bool:
    """``localhost`` or an IPv4 loopback address (the only hosts the emulator binds to)."""
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.version == 4 and address.is_loopback


class _Handler(WSGIRequestHandler):
    """Logs method, path (never the query string) and status only; nothing when quiet."""

    server: _Server

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if not self.server.quiet:
            sys.stderr.write(f"[entra-emulator] {self._method()} {self._path()} {code}\n")

    def log_message(self, format: str, *args: Any) -> None:
        # The stdlib passes the raw request line here, query string included: never print it.
        if not self.server.quiet:
            sys.stderr.write(f"[entra-emulator] bad request {self._method()} {self._path()}\n")

    def _method(self) -> str:
        return _printable(getattr(self, "command", None) or "-", 10)

    def _path(self) -> str:
        path = getattr(self, "path", None) or "-"
        return _printable(path.split("?", 1)[0].split("#", 1)[0], 200)


def _printable(text: str, limit: int) -> str:
    return "".join(ch if " " < ch <= "~" else "?" for ch in text[:limit])


class _Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    quiet = False

    def server_bind(self) -> None:
        # As HTTPServer.server_bind, without the reverse DNS lookup (getfqdn) it makes.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)
        self.setup_environ()

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not self.quiet:
            error = sys.exc_info()[1]
            sys.stderr.write(f"[entra-emulator] connection error: {type(error).__name__}\n")


class EntraEmulator:
    """A development imitation of Microsoft Entra ID's v2 endpoints for one tenant.

    The port is bound on construction, so ``base_url`` is known before ``start()``.
    """

    def __init__(
        self,
        tenant_id: str,
        client_id: str,
        client_secret: str,
        people: Iterable[Person] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        redirect_uris: Iterable[str] = (),
        quiet: bool = False,
        app_name: str = "Keyfax",
        front_channel_logout_urls: Iterable[str] = (),
    ) -> None:
        if not TENANT.match(tenant_id or ""):
            raise ValueError("tenant_id must be a tenant GUID")
        if not client_id or not client_id.strip() or not client_secret:
            raise ValueError("client_id and client_secret are required")
        if not is_loopback(host):
            raise ValueError(f"the emulator binds to loopback hosts only, not {host!r}")
        self.tenant_id = tenant_id
        self.client_id = client_id.strip()
        self.client_secret = client_secret
        self.directory = Directory(load_people() if people is None else people)
        self.redirect_uris = frozenset(redirect_uris)
        # The app's registered front-channel logout URL(s); empty: derived (see sign_out).
        self.front_channel_logout_urls = check_front_channel_urls(front_channel_logout_urls)
        self.front_channel_timeout: float = 5.0
        self.quiet = quiet
        self.app_name = app_name
        self.keys = KeyRing()
        self.store = Store()
        # Test hooks.
        self.id_token_hook: IdTokenHook | None = None
        self.request_counts: Counter[str] = Counter()
        self.graph_delay: float = 5.0
        self.token_error: tuple[int, str, str] | None = None
        self.code_lifetime: float = 600.0
        self.clock: Callable[[], float] = time.time
        self._graph_mode = "ok"
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._server = _Server((host, port), _Handler)
        self._server.quiet = quiet
        self._server.set_app(make_app(self))
        self.host = host
        self.port: int = self._server.server_port
        self.base_url = f"http://{host}:{self.port}"
        self.issuer = f"{self.base_url}/{tenant_id}/v2.0"

    def __repr__(self) -> str:
        return f"<EntraEmulator {self.base_url} tenant={self.tenant_id}>"

    # --- running ---------------------------------------------------------------------
    def start(self) -> EntraEmulator:
        """Serve in a daemon thread; returns ``self``."""
        if self._closed:
            raise RuntimeError("this emulator has been stopped; create a new one")
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name=f"entra-emulator-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the management command)."""
        try:
            self._server.serve_forever(poll_interval=0.2)
        finally:
            self._close()

    def stop(self) -> None:
        """Stop serving and release the port (safe to call twice)."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._close()

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            self._server.server_close()

    def __enter__(self) -> EntraEmulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- keys --------------------------------------------------------------------------
    def rotate_signing_key(self) -> str:
        """Publish a new key next to the old ones and sign with it from now on; its kid."""
        return self.keys.rotate().kid

    @property
    def signing_kid(self) -> str:
        return self.keys.current.kid

    @property
    def signing_private_key(self) -> rsa.RSAPrivateKey:
        return self.keys.current.private_key

    # --- people, counters, hooks ---------------------------------------------------------
    @property
    def people(self) -> tuple[Person, ...]:
        """The people as they are now (see :class:`Directory` for run-time changes)."""
        return self.directory.all()

    def person(self, oid_or_upn: str | None) -> Person | None:
        return self.directory.get(oid_or_upn)

    def count(self, endpoint: str) -> None:
        with self._lock:
            self.request_counts[endpoint] += 1

    def reset_counts(self) -> None:
        with self._lock:
            self.request_counts.clear()

    @property
    def graph_mode(self) -> str:
        return self._graph_mode

    @graph_mode.setter
    def graph_mode(self, mode: str) -> None:
        if mode not in GRAPH_MODES:
            raise ValueError(f"graph_mode must be one of {', '.join(GRAPH_MODES)}")
        self._graph_mode = mode

    def take_token_error(self) -> tuple[int, str, str] | None:
        """The pending forced token error, cleared so it applies to one request only."""
        with self._lock:
            forced, self.token_error = self.token_error, None
        if forced is None:
            return None
        status, error, description = forced
        return int(status), str(error), str(description)
