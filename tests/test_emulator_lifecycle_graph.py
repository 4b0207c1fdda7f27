"""The emulator's Graph user search (for registering people on User Maintenance) and the
Graph failures it can simulate, over real HTTP."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from entra_emulator import EntraEmulator, load_people
from tests import people
from tests.tokens import CLIENT_ID, CLIENT_SECRET, TENANT_ID

AUTHOR = people.person("Script author")
PUBLISHER = people.person("Script publisher")
TIMEOUT = 10
EVENTUAL = {"ConsistencyLevel": "eventual"}
PROPERTIES = {"id", "displayName", "userPrincipalName", "mail", "givenName", "surname",
              "accountEnabled"}


@pytest.fixture
def emu() -> Iterator[EntraEmulator]:
    with EntraEmulator(
        tenant_id=TENANT_ID, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
        people=load_people(), quiet=True,
    ) as emulator:
        yield emulator


@pytest.fixture
def app_token(emu) -> str:
    """An application token from the client-credentials grant, as Keyfax gets one."""
    answer = requests.post(f"{emu.issuer[:-5]}/oauth2/v2.0/token", data={
        "grant_type": "client_credentials", "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET, "scope": "https://graph.microsoft.com/.default",
    }, timeout=TIMEOUT)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def search(emu, token: str | None, params: dict[str, str],
           headers: dict[str, str] | None = EVENTUAL) -> requests.Response:
    sent = dict(headers or {})
    if token:
        sent["Authorization"] = f"Bearer {token}"
    return requests.get(f"{emu.base_url}/v1.0/users", params=params, headers=sent,
                        timeout=TIMEOUT)


def any_of(value: str) -> dict[str, str]:
    return {"$search": f'"displayName:{value}" OR "userPrincipalName:{value}" OR '
                       f'"mail:{value}"'}


def graph_error(answer: requests.Response, status: int, code: str) -> dict:
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert set(error["innerError"]) >= {"date", "request-id"}
    return error


def test_search_finds_people_by_name_and_upn(emu, app_token):
    by_name = search(emu, app_token, {**any_of("pri"), "$top": "25"})
    assert by_name.status_code == 200
    [priya] = by_name.json()["value"]
    assert priya == {
        "id": AUTHOR["oid"], "displayName": AUTHOR["name"],
        "userPrincipalName": AUTHOR["upn"], "mail": AUTHOR["email"],
        "givenName": AUTHOR["given_name"], "surname": AUTHOR["family_name"],
        "accountEnabled": True,
    }
    by_upn = search(emu, app_token, any_of("gareth.llew")).json()["value"]
    assert [user["id"] for user in by_upn] == [PUBLISHER["oid"]]
    by_surname_word = search(emu, app_token, any_of("SHAH")).json()["value"]
    assert [user["id"] for user in by_surname_word] == [AUTHOR["oid"]]
    single = search(emu, app_token, {"$search": '"displayName:llewellyn"'}).json()["value"]
    assert [user["id"] for user in single] == [PUBLISHER["oid"]]
    assert search(emu, app_token, any_of("zzz")).json()["value"] == []


def test_select_and_top_shape_the_answer(emu, app_token):
    domain = AUTHOR["upn"].split("@")[1]
    everyone = search(emu, app_token, {"$search": f'"mail:{domain}"'}).json()["value"]
    assert len(everyone) == len(load_people())
    assert all(set(user) == PROPERTIES for user in everyone)
    names = [user["displayName"] for user in everyone]
    assert names == sorted(names, key=str.casefold)

    two = search(emu, app_token, {"$search": f'"mail:{domain}"', "$top": "2",
                                  "$select": "id,displayName"}).json()
    assert [set(user) for user in two["value"]] == [{"id", "displayName"}] * 2
    assert two["@odata.context"].endswith("#users(id,displayName)")


def test_search_shows_a_disabled_account(emu, app_token):
    emu.directory.update(AUTHOR["oid"], enabled=False)
    [priya] = search(emu, app_token, any_of("priya")).json()["value"]
    assert priya["accountEnabled"] is False


def test_search_needs_the_consistency_level_header(emu, app_token):
    answer = search(emu, app_token, any_of("pri"), headers={})
    error = graph_error(answer, 400, "Request_UnsupportedQuery")
    assert "ConsistencyLevel: eventual" in error["message"]


def test_search_needs_an_application_token(emu, app_token):
    graph_error(search(emu, None, any_of("pri")), 401, "InvalidAuthenticationToken")
    graph_error(search(emu, "not-a-token", any_of("pri")), 401, "InvalidAuthenticationToken")
    user_grant = _user_token(emu)
    error = graph_error(search(emu, user_grant, any_of("pri")), 403,
                        "Authorization_RequestDenied")
    assert error["message"] == "Insufficient privileges to complete the operation."


@pytest.mark.parametrize(("params", "code"), [
    ({"$search": '"displayName:pri" OR'}, "Request_UnsupportedQuery"),
    ({"$search": "pri"}, "Request_UnsupportedQuery"),
    ({"$search": '"jobTitle:pri"'}, "Request_UnsupportedQuery"),
    ({"$search": '"displayName:pri"', "$top": "0"}, "Request_BadRequest"),
    ({"$search": '"displayName:pri"', "$select": "id,password"}, "Request_BadRequest"),
    ({"$filter": "startswith(displayName,'pri')"}, "Request_UnsupportedQuery"),
])
def test_malformed_queries_are_refused_in_graphs_shape(emu, app_token, params, code):
    graph_error(search(emu, app_token, params), 400, code)


def set_mode(emu, mode: str) -> dict:
    answer = requests.post(f"{emu.base_url}/_emulator/graph", json={"mode": mode},
                           timeout=TIMEOUT)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_throttling_is_a_429_with_retry_after(emu, app_token):
    set_mode(emu, "throttled")
    answer = search(emu, app_token, any_of("pri"))
    graph_error(answer, 429, "TooManyRequests")
    assert answer.headers["Retry-After"] == "7"
    member_objects = requests.post(
        f"{emu.base_url}/v1.0/users/{AUTHOR['oid']}/getMemberObjects",
        json={"securityEnabledOnly": False}, headers={"Authorization": f"Bearer {app_token}"},
        timeout=TIMEOUT)
    assert member_objects.status_code == 429  # Graph throttles the app, whatever it asks


def test_a_missing_permission_is_a_403(emu, app_token):
    set_mode(emu, "forbidden")
    error = graph_error(search(emu, app_token, any_of("pri")), 403,
                        "Authorization_RequestDenied")
    assert error["message"] == "Insufficient privileges to complete the operation."


def test_an_outage_is_a_503_and_normal_service_resumes(emu, app_token):
    set_mode(emu, "down")
    graph_error(search(emu, app_token, any_of("pri")), 503, "serviceNotAvailable")
    assert set_mode(emu, "normal")["mode"] == "ok"
    assert search(emu, app_token, any_of("pri")).status_code == 200


def test_an_unknown_mode_is_refused(emu):
    answer = requests.post(f"{emu.base_url}/_emulator/graph", json={"mode": "flaky"},
                           timeout=TIMEOUT)
    assert answer.status_code == 400
    assert emu.graph_mode == "ok"
    shown = requests.get(f"{emu.base_url}/_emulator/graph", timeout=TIMEOUT).json()
    assert shown["mode"] == "ok"
    assert {"normal", "throttled", "forbidden", "down"} <= set(shown["modes"])


def _user_token(emu) -> str:
    """A user's (delegated) access token, from an interactive sign-in."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    redirect_uri = "http://127.0.0.1:9/oidc/callback/"
    authorize = f"{emu.issuer[:-5]}/oauth2/v2.0/authorize"
    params = {"client_id": CLIENT_ID, "response_type": "code", "redirect_uri": redirect_uri,
              "scope": "openid", "code_challenge": challenge, "code_challenge_method": "S256"}
    picked = requests.post(authorize, params=params, data={"account": AUTHOR["oid"]},
                           allow_redirects=False, timeout=TIMEOUT)
    code = parse_qs(urlsplit(picked.headers["Location"]).query)["code"][0]
    answer = requests.post(f"{emu.issuer[:-5]}/oauth2/v2.0/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "code_verifier": verifier,
    }, timeout=TIMEOUT)
    return answer.json()["access_token"]
