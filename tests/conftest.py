"""Shared fixtures: fast hashing, fresh Entra caches, the Entra emulator and a browser."""

from __future__ import annotations

import http.server
import threading

import pytest
import requests

from accounts.entra import discovery, keys
from tests.tokens import CLIENT_ID, CLIENT_SECRET, TENANT_ID


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True, scope="session")
def _settings_already_seen():
    """The one-per-process ``settings_seen`` event would add queries to whichever test
    happens to serve the first request; tests of that event reset it themselves."""
    from audit import startup

    startup._seen = True


@pytest.fixture(autouse=True)
def _fresh_entra_caches():
    discovery.clear_cache()
    keys.clear_cache()
    yield
    discovery.clear_cache()
    keys.clear_cache()


@pytest.fixture(scope="session")
def emulator():
    """The project's Entra emulator, serving over real HTTP on a free loopback port."""
    from entra_emulator import EntraEmulator, load_people

    emu = EntraEmulator(
        tenant_id=TENANT_ID, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
        people=load_people(), host="127.0.0.1", port=0, quiet=True,
    ).start()
    yield emu
    emu.stop()


def point_site_at(settings, authority: str, *, mode: str = "authentication") -> None:
    settings.ENTRA_AUTHORITY = authority
    settings.ENTRA_GRAPH_URL = authority
    settings.ENTRA_TENANT_ID = TENANT_ID
    settings.ENTRA_CLIENT_ID = CLIENT_ID
    settings.ENTRA_CLIENT_SECRET = CLIENT_SECRET
    settings.KEYFAX_SSO_ADMIN_TOOL = mode
    settings.KEYFAX_SSO_WEB_STAFF = mode
    settings.KEYFAX_LOCAL_LOGIN = False
    settings.ENTRA_HTTP_TIMEOUT = 2.0


def _reset(emu) -> None:
    emu.directory.reset()  # people as the file has them (lifecycle changes undone)
    emu.id_token_hook = None
    emu.token_error = None
    emu.graph_mode = "ok"
    emu.reset_counts()


@pytest.fixture
def entra(emulator, settings, live_server):
    """The site (on a live server) signing in against the emulator."""
    point_site_at(settings, emulator.base_url)
    _reset(emulator)
    yield emulator
    _reset(emulator)


@pytest.fixture
def perms_site(entra, settings, db):
    """``entra`` with both elements in ``authentication_and_permissions`` and the default
    role mappings (a transactional test's flush removes the migration's copy)."""
    from django.apps import apps

    from permissions.defaults import seed_default_mappings

    seed_default_mappings(apps)
    settings.KEYFAX_SSO_ADMIN_TOOL = settings.KEYFAX_SSO_WEB_STAFF = (
        "authentication_and_permissions")
    return entra


@pytest.fixture
def sign_in(client, settings):
    """``sign_in("edit_scripts", ...)``: an Entra session (both elements admitted) for a new
    user, or ``user=``, holding those catalogue permissions."""
    from tests.factories import UserFactory, grant
    from tests.permission_helpers import entra_session

    point_site_at(settings, "https://login.microsoftonline.com")

    def signed_in(*codenames: str, user=None):
        user = user or UserFactory()
        grant(user, *codenames)
        entra_session(client, user)
        return user

    return signed_in


@pytest.fixture
def maintainer(client, settings):
    """A signed-in holder of maintain-users (Administration Tool off: passwords admitted)."""
    from tests.factories import MaintainerFactory

    settings.KEYFAX_SSO_ADMIN_TOOL = "off"
    user = MaintainerFactory(username="maint", first_name="Mina", last_name="Tainer")
    client.force_login(user)
    return user


@pytest.fixture
def trap_server():
    """A server that must never be contacted (an attacker's key URL, the Graph URL a token
    names): yields its base URL and the list of paths it was asked for."""
    hits: list[str] = []

    class Trap(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"keys": [], "value": []}')

        do_POST = do_GET

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Trap)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.shutdown()
    server.server_close()


@pytest.fixture
def browser(live_server):
    from tests.browser import Browser

    with requests.Session() as session:
        yield Browser(session, live_server.url)


from tests.playwright_support import chromium, page  # noqa: E402, F401  (browser fixtures)


# --------------------------------------------------------------------------------------------
# Tests for one database engine: a visible skip (in the -ra summary) on the other, never a
# silent alternative assertion. pytest-django has set Django up before this file is imported,
# and a backend's ``vendor`` is known without connecting.
def _on_postgresql() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


ON_POSTGRESQL = _on_postgresql()

postgresql_only = pytest.mark.skipif(
    not ON_POSTGRESQL,
    reason="PostgreSQL only: run with DATABASE_URL=postgres://… to check the database's own guard",
)
sqlite_only = pytest.mark.skipif(
    ON_POSTGRESQL, reason="SQLite only: PostgreSQL has its own test of this behaviour",
)


@pytest.fixture
def scim_api(client, settings, db):
    """Entra's provisioning service over Django's test client, with a live bearer token
    called ``entra-provisioning`` (tests/scim_helpers.py)."""
    from django.core.cache import cache

    from scim import tokens
    from tests.scim_helpers import ScimApi

    settings.ENTRA_TENANT_ID = TENANT_ID  # SCIM links accounts to this tenant: a GUID
    cache.clear()  # no failed-token count left behind by another test
    yield ScimApi(client, tokens.create("entra-provisioning"), "entra-provisioning")
    cache.clear()
