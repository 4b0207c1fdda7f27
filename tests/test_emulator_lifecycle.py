"""The emulator plays the whole lifecycle: an administrator disables or unassigns a person,
changes their app roles or signs them out of Microsoft, and sign-in, silent re-authentication
(``prompt=none``) and front-channel logout follow. All over real HTTP."""

from __future__ import annotations

import base64
import hashlib
import http.server
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests
from django.core.management import call_command
from django.core.management.base import CommandError

from entra_emulator import EntraEmulator, load_people
from tests import people
from tests.tokens import CLIENT_ID, CLIENT_SECRET, TENANT_ID

AUTHOR = people.person("Script author")
ADMIN = people.person("Administrator")
TIMEOUT = 10


@dataclass
class Recorder:
    """A tiny site standing in for Keyfax: it records every request it is sent."""

    base_url: str
    hits: list[str] = field(default_factory=list)

    @property
    def callback(self) -> str:
        return f"{self.base_url}/oidc/callback/"

    def front_channel_sids(self, path: str = "/oidc/logout/front-channel/") -> list[str]:
        return [
            parse_qs(urlsplit(hit).query)["sid"][0]
            for hit in self.hits
            if urlsplit(hit).path == path
        ]


@pytest.fixture
def site() -> Iterator[Recorder]:
    recorder = Recorder("")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            recorder.hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"Signed out of Keyfax.")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    recorder.base_url = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield recorder
    server.shutdown()
    server.server_close()


@pytest.fixture
def emu() -> Iterator[EntraEmulator]:
    with EntraEmulator(
        tenant_id=TENANT_ID, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
        people=load_people(), quiet=True,
    ) as emulator:
        yield emulator


@dataclass
class App:
    """The relying party's side of sign-in, and a browser holding the emulator's cookie."""

    emu: EntraEmulator
    redirect_uri: str
    browser: requests.Session = field(default_factory=requests.Session)
    verifier: str = ""

    def authorize_url(self, **extra: str) -> str:
        self.verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(
            hashlib.sha256(self.verifier.encode()).digest()).rstrip(b"=").decode()
        params = {
            "client_id": CLIENT_ID, "response_type": "code", "redirect_uri": self.redirect_uri,
            "scope": "openid profile email", "state": "st-1", "nonce": "n-1",
            "code_challenge": challenge, "code_challenge_method": "S256", **extra,
        }
        return f"{self.emu.issuer[:-5]}/oauth2/v2.0/authorize?{urlencode(params)}"

    def pick(self, account: str) -> dict[str, str]:
        """Interactive sign-in on the account picker: the parameters of the redirect."""
        url = self.authorize_url()
        assert self.browser.get(url, timeout=TIMEOUT).status_code == 200
        answer = self.browser.post(url, data={"account": account}, allow_redirects=False,
                                   timeout=TIMEOUT)
        return self._back(answer)

    def silent(self, **extra: str) -> dict[str, str]:
        """``prompt=none``, as Keyfax re-checks a session: the parameters of the redirect."""
        answer = self.browser.get(self.authorize_url(prompt="none", **extra),
                                  allow_redirects=False, timeout=TIMEOUT)
        return self._back(answer)

    def _back(self, answer: requests.Response) -> dict[str, str]:
        assert answer.status_code == 302, answer.text[:300]
        location = answer.headers["Location"]
        assert location.startswith(self.redirect_uri)
        return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}

    def redeem(self, code: str) -> requests.Response:
        return requests.post(f"{self.emu.issuer[:-5]}/oauth2/v2.0/token", data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri,
            "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
            "code_verifier": self.verifier}, timeout=TIMEOUT)

    def id_token(self, back: dict[str, str]) -> dict:
        """Redeem the code of ``back`` and verify the ID token against the emulator's JWKS."""
        assert "code" in back, back
        answer = self.redeem(back["code"])
        assert answer.status_code == 200, answer.text
        token = answer.json()["id_token"]
        jwks = jwt.PyJWKClient(f"{self.emu.issuer[:-5]}/discovery/v2.0/keys")
        key = jwks.get_signing_key_from_jwt(token).key
        return jwt.decode(token, key, algorithms=["RS256"], audience=CLIENT_ID,
                          issuer=self.emu.issuer)

    def sign_in(self, person: dict) -> dict:
        return self.id_token(self.pick(person["oid"]))


@pytest.fixture
def app(emu, site) -> App:
    return App(emu, site.callback)


def control(emu: EntraEmulator, who: str, **change) -> dict:
    answer = requests.post(f"{emu.base_url}/_emulator/people/{who}", json=change,
                           timeout=TIMEOUT)
    assert answer.status_code == 200, answer.text
    return answer.json()


def refused(back: dict[str, str], error: str, code: int) -> str:
    assert "code" not in back
    assert back["error"] == error
    assert back["error_description"].startswith(f"AADSTS{code}: ")
    assert back["state"] == "st-1"
    return back["error_description"]


# --- disable / enable ---------------------------------------------------------------------

def test_a_disabled_person_is_refused_interactively_and_silently(emu, app):
    claims = app.sign_in(AUTHOR)
    state = control(emu, AUTHOR["oid"], enabled=False)
    assert state["accountEnabled"] is False

    silent = refused(app.silent(login_hint=AUTHOR["upn"], sid=claims["sid"]),
                     "access_denied", 50057)
    assert "User account is disabled" in silent
    interactive = refused(app.pick(AUTHOR["oid"]), "access_denied", 50057)
    assert "User account is disabled" in interactive

    control(emu, AUTHOR["oid"], enabled=True)
    again = app.id_token(app.silent(login_hint=AUTHOR["upn"], sid=claims["sid"]))
    assert (again["oid"], again["sid"]) == (AUTHOR["oid"], claims["sid"])


def test_a_code_issued_before_the_account_was_disabled_is_not_redeemed(emu, app):
    back = app.pick(AUTHOR["oid"])
    control(emu, AUTHOR["upn"], enabled=False)  # the control takes a UPN too
    answer = app.redeem(back["code"])
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"
    assert answer.json()["error_codes"] == [50057]


# --- unassign / assign --------------------------------------------------------------------

def test_an_unassigned_person_is_refused_interactively_and_silently(emu, app):
    claims = app.sign_in(ADMIN)
    assert control(emu, ADMIN["oid"], assigned=False)["assigned"] is False

    silent = refused(app.silent(login_hint=ADMIN["upn"], sid=claims["sid"]),
                     "access_denied", 50105)
    assert ADMIN["upn"] in silent
    refused(app.pick(ADMIN["oid"]), "access_denied", 50105)

    control(emu, ADMIN["oid"], assigned=True)
    assert app.id_token(app.silent(login_hint=ADMIN["upn"]))["oid"] == ADMIN["oid"]


# --- app roles ----------------------------------------------------------------------------

def test_a_role_change_shows_in_the_next_id_token(emu, app):
    first = app.sign_in(AUTHOR)
    assert first["roles"] == ["Keyfax.ScriptAuthor"]

    state = control(emu, AUTHOR["oid"], roles=["Keyfax.Admin", "Keyfax.Staff"])
    assert state["roles"] == ["Keyfax.Admin", "Keyfax.Staff"]
    second = app.id_token(app.silent(login_hint=AUTHOR["upn"], sid=first["sid"]))
    assert second["roles"] == ["Keyfax.Admin", "Keyfax.Staff"]
    assert second["sid"] == first["sid"]

    control(emu, AUTHOR["oid"], roles=[])
    third = app.id_token(app.silent(login_hint=AUTHOR["upn"], sid=first["sid"]))
    assert "roles" not in third


# --- prompt=none --------------------------------------------------------------------------

def test_silent_sign_in_without_a_session_needs_a_login(app):
    refused(app.silent(login_hint=AUTHOR["upn"]), "login_required", 50058)


def test_silent_sign_in_for_someone_else_needs_a_login(app):
    claims = app.sign_in(AUTHOR)
    refused(app.silent(login_hint=ADMIN["upn"]), "login_required", 50058)
    # The hint is compared without regard to case.
    same = app.id_token(app.silent(login_hint=AUTHOR["upn"].upper(), sid=claims["sid"]))
    assert same["oid"] == AUTHOR["oid"]


def test_silent_sign_in_for_another_session_needs_a_login(app):
    app.sign_in(AUTHOR)
    other_sid = "0f0e0d0c-0b0a-4908-8706-050403020100"
    refused(app.silent(login_hint=AUTHOR["upn"], sid=other_sid), "login_required", 50058)


# --- signing out of Microsoft ---------------------------------------------------------------

def test_the_json_sign_out_calls_the_front_channel_url_with_the_sid(emu, app, site):
    claims = app.sign_in(AUTHOR)
    shown = requests.get(f"{emu.base_url}/_emulator/people/{AUTHOR['oid']}", timeout=TIMEOUT)
    assert shown.json()["sessions"] == [claims["sid"]]
    state = control(emu, AUTHOR["oid"], sign_out=True)

    assert state["signed_out"]["sessions"] == [claims["sid"]]
    [call] = state["signed_out"]["front_channel"]
    assert call["status"] == 200
    assert site.front_channel_sids() == [claims["sid"]]
    [hit] = site.hits
    assert parse_qs(urlsplit(hit).query)["iss"] == [emu.issuer]
    assert state["sessions"] == []
    refused(app.silent(login_hint=AUTHOR["upn"], sid=claims["sid"]), "login_required", 50058)


def test_a_configured_front_channel_url_is_used(site):
    registered = f"{site.base_url}/registered/logout?tenant=demo"
    with EntraEmulator(
        tenant_id=TENANT_ID, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
        people=load_people(), quiet=True, front_channel_logout_urls=[registered],
    ) as emulator:
        claims = App(emulator, site.callback).sign_in(ADMIN)
        control(emulator, ADMIN["oid"], sign_out=True)
    [hit] = site.hits
    query = parse_qs(urlsplit(hit).query)
    assert urlsplit(hit).path == "/registered/logout"
    assert (query["tenant"], query["sid"]) == (["demo"], [claims["sid"]])


def test_the_end_session_endpoint_loads_the_front_channel_url_then_goes_back(emu, app, site):
    claims = app.sign_in(AUTHOR)
    back_to = f"{site.base_url}/accounts/signed-out/"
    logout = f"{emu.issuer[:-5]}/oauth2/v2.0/logout?" + urlencode(
        {"post_logout_redirect_uri": back_to})

    page = app.browser.get(logout, allow_redirects=False, timeout=TIMEOUT)

    assert page.status_code == 200
    assert f"front-channel/?sid={claims['sid']}&amp;iss=" in page.text
    assert "<iframe" in page.text
    assert f'content="1;url={back_to}"' in page.text
    assert f"frame-src {site.base_url}" in page.headers["Content-Security-Policy"]
    refused(app.silent(login_hint=AUTHOR["upn"]), "login_required", 50058)
    # With no session left there is nothing to sign out of: straight back.
    again = app.browser.get(logout, allow_redirects=False, timeout=TIMEOUT)
    assert (again.status_code, again.headers["Location"]) == (302, back_to)


# --- the People page ------------------------------------------------------------------------

def _form(emu: EntraEmulator, who: str, origin: str | None = None, **fields: str):
    headers = {"Origin": origin} if origin else {}
    return requests.post(f"{emu.base_url}/_emulator/people/{who}", data=fields,
                         headers=headers, timeout=TIMEOUT)


def test_the_index_links_the_people_page_which_lists_everyone(emu):
    index = requests.get(emu.base_url + "/", timeout=TIMEOUT)
    assert 'href="/_emulator/people"' in index.text
    page = requests.get(emu.base_url + "/_emulator/people", timeout=TIMEOUT)
    assert page.status_code == 200
    for person in load_people():
        assert person.upn in page.text
        assert f'action="/_emulator/people/{person.oid}"' in page.text
    for label in ("Disable", "Unassign", "Save roles", "Sign out of Microsoft"):
        assert label in page.text


def test_the_people_page_forms_change_the_person(emu, app, site):
    claims = app.sign_in(AUTHOR)
    origin = emu.base_url
    # The page's no-referrer policy makes a browser send Origin: null, with Sec-Fetch-Site.
    same_origin = {"Origin": "null", "Sec-Fetch-Site": "same-origin"}
    assert requests.post(f"{emu.base_url}/_emulator/people/{ADMIN['oid']}", timeout=TIMEOUT,
                         data={"action": "unassign"}, headers=same_origin).status_code == 200
    assert not emu.person(ADMIN["oid"]).assigned

    page = _form(emu, AUTHOR["oid"], origin, action="disable")
    assert page.status_code == 200
    assert "account disabled" in page.text
    assert '<button class="secondary" type="submit" name="action" value="enable">' in page.text
    _form(emu, AUTHOR["oid"], origin, action="unassign")
    _form(emu, AUTHOR["oid"], origin, action="roles", roles="Keyfax.Admin, Keyfax.Staff")
    state = requests.get(f"{emu.base_url}/_emulator/people/{AUTHOR['oid']}",
                         timeout=TIMEOUT).json()
    assert (state["accountEnabled"], state["assigned"], state["roles"]) == (
        False, False, ["Keyfax.Admin", "Keyfax.Staff"])

    signed_out = _form(emu, AUTHOR["oid"], origin, action="sign_out")
    assert signed_out.status_code == 200
    assert f"/oidc/logout/front-channel/?sid={claims['sid']}" in signed_out.text
    assert f"frame-src {site.base_url}" in signed_out.headers["Content-Security-Policy"]
    assert site.hits == []  # the browser loads the iframe, not the emulator

    assert _form(emu, "nobody", origin, action="disable").status_code == 404
    reset = requests.post(f"{emu.base_url}/_emulator/people", json={"reset": True},
                          timeout=TIMEOUT)
    assert reset.status_code == 200
    assert emu.person(AUTHOR["oid"]).roles == ("Keyfax.ScriptAuthor",)
    assert emu.person(AUTHOR["oid"]).enabled


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},
    {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
    {"Origin": "null", "Sec-Fetch-Site": "same-site"},  # another port of 127.0.0.1
])
def test_cross_site_posts_are_refused(emu, headers):
    answer = requests.post(f"{emu.base_url}/_emulator/people/{AUTHOR['oid']}",
                           data={"action": "disable"}, headers=headers, timeout=TIMEOUT)
    assert answer.status_code == 403
    assert emu.person(AUTHOR["oid"]).enabled
    as_text = requests.post(f"{emu.base_url}/_emulator/people/{AUTHOR['oid']}",
                            data='{"enabled": false}', headers={"Content-Type": "text/plain"},
                            timeout=TIMEOUT)
    assert as_text.status_code == 415
    assert emu.person(AUTHOR["oid"]).enabled


@pytest.mark.parametrize(("who", "body", "status"), [
    ("00000000-0000-0000-0000-000000000000", {"enabled": False}, 404),
    (AUTHOR["oid"], {"enabled": "no"}, 400),
    (AUTHOR["oid"], {"roles": "Keyfax.Admin"}, 400),
    (AUTHOR["oid"], {"roles": ["not a role!"]}, 400),
    (AUTHOR["oid"], {"colour": "blue"}, 400),
    (AUTHOR["oid"], {}, 400),
])
def test_bad_control_requests_are_refused_and_change_nothing(emu, who, body, status):
    answer = requests.post(f"{emu.base_url}/_emulator/people/{who}", json=body,
                           timeout=TIMEOUT)
    assert answer.status_code == status
    assert answer.json()["error"] == "invalid_request"
    assert emu.person(AUTHOR["oid"]) == next(p for p in load_people() if p.oid == AUTHOR["oid"])


# --- manage.py entra_person -----------------------------------------------------------------

def test_the_entra_person_command_drives_the_json_control(emu, app, site, capsys):
    claims = app.sign_in(AUTHOR)
    call_command("entra_person", AUTHOR["upn"], "--disable", "--unassign",
                 "--roles", "Keyfax.Staff,Keyfax.Admin", "--emulator", emu.base_url)
    person = emu.person(AUTHOR["oid"])
    assert (person.enabled, person.assigned, person.roles) == (
        False, False, ("Keyfax.Staff", "Keyfax.Admin"))
    assert "account disabled, not assigned to the app" in capsys.readouterr().out

    call_command("entra_person", AUTHOR["oid"], "--sign-out", "--emulator", emu.base_url)
    assert "front-channel logout" in capsys.readouterr().out
    assert site.front_channel_sids() == [claims["sid"]]

    with pytest.raises(CommandError, match="404"):
        call_command("entra_person", "nobody@example.com", "--emulator", emu.base_url)
    with pytest.raises(CommandError, match=r"127\.0\.0\.1"):
        call_command("entra_person", AUTHOR["oid"], "--emulator", "http://example.com")
