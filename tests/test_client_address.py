"""Behind a trusted reverse proxy the site sees the client; nobody else is believed.

``KEYFAX_TRUSTED_PROXIES`` decides whose ``X-Forwarded-For`` and ``X-Request-ID`` count
(docs/deployment.md). Every test here goes over HTTP — the Django test client, which sets
``REMOTE_ADDR`` as a WSGI server would, or a live server — and reads the outcome where an
operator would: the refusal's audit event (``source_ip``, ``request_id``) and the response's
``X-Request-ID`` header, or ``manage.py check``.
"""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from django.core import checks
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from audit.models import AuditEvent

ROOT = Path(__file__).resolve().parent.parent
PROXY = "10.0.0.1"
CLIENT = "203.0.113.9"
SPOOFED = "192.0.2.66"
ELSEWHERE = "198.51.100.7"
FRESH_ID = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture(autouse=True)
def _password_site(settings):
    """Password sign-in on, so a wrong password is a refusal with an audit event."""
    settings.ENTRA_TENANT_ID = ""
    settings.KEYFAX_SSO_ADMIN_TOOL = settings.KEYFAX_SSO_WEB_STAFF = "off"
    settings.KEYFAX_LOCAL_LOGIN = True
    settings.KEYFAX_LOGIN_ATTEMPTS = 1000  # these tests are about addresses, not lock-outs
    settings.KEYFAX_TRUSTED_PROXIES = []
    cache.clear()
    yield
    cache.clear()


def refusal(client, **environ) -> tuple[AuditEvent, object]:
    """POST a wrong password with these WSGI environ values; the refusal's event and response."""
    response = client.post(
        "/accounts/login/", {"username": "nobody.here", "password": "wrong"}, **environ
    )
    assert response.status_code == 400
    event = AuditEvent.objects.latest("id")
    assert (event.action, event.outcome, event.reason) == ("sign_in", "refused",
                                                           "bad_credentials")
    return event, response


def source_ip(client, remote_addr: str, forwarded_for: str | None = None) -> str | None:
    environ = {"REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        environ["HTTP_X_FORWARDED_FOR"] = forwarded_for
    event, _ = refusal(client, **environ)
    return event.source_ip


# --- X-Forwarded-For ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_trusted_proxy_names_the_client_and_nobody_else_does(client, settings):
    settings.KEYFAX_TRUSTED_PROXIES = [PROXY]
    assert source_ip(client, PROXY, CLIENT) == CLIENT
    # The same header straight from the internet (or from an unlisted proxy) is ignored.
    assert source_ip(client, ELSEWHERE, CLIENT) == ELSEWHERE
    settings.KEYFAX_TRUSTED_PROXIES = []
    assert source_ip(client, PROXY, CLIENT) == PROXY


@pytest.mark.django_db
def test_the_setting_may_be_a_comma_string_of_addresses_and_networks(client, settings):
    settings.KEYFAX_TRUSTED_PROXIES = "192.0.2.200, 10.0.0.0/24"
    assert source_ip(client, "10.0.0.77", CLIENT) == CLIENT
    assert source_ip(client, "10.0.1.77", CLIENT) == "10.0.1.77"


@pytest.mark.django_db
def test_several_trusted_hops_are_skipped_from_the_right(client, settings):
    settings.KEYFAX_TRUSTED_PROXIES = ["10.0.0.0/24"]
    assert source_ip(client, PROXY, f"{CLIENT}, 10.0.0.7, 10.0.0.8") == CLIENT


@pytest.mark.django_db
@pytest.mark.parametrize("forwarded_for", [
    f"{SPOOFED}, {CLIENT}",  # the client wrote an address; the proxy appended the real one
    f"{SPOOFED},{ELSEWHERE}, {PROXY} ,{CLIENT}",  # several, one of them a trusted address
    f"10.0.0.8, {CLIENT}",  # a trusted address on the left proves nothing
    f"unknown, {CLIENT}",  # left of the client, a malformed entry is never even read
])
def test_spoofed_leftmost_entries_are_never_the_client(client, settings, forwarded_for):
    settings.KEYFAX_TRUSTED_PROXIES = [PROXY, "10.0.0.8"]
    assert source_ip(client, PROXY, forwarded_for) == CLIENT


@pytest.mark.django_db
def test_an_unlisted_proxy_in_the_chain_is_the_client_as_far_as_anyone_knows(client, settings):
    settings.KEYFAX_TRUSTED_PROXIES = ["10.0.0.0/24"]
    assert source_ip(client, PROXY, f"{SPOOFED}, {ELSEWHERE}, 10.0.0.7") == ELSEWHERE


@pytest.mark.django_db
def test_when_every_hop_is_trusted_the_farthest_one_is_the_client(client, settings):
    settings.KEYFAX_TRUSTED_PROXIES = ["10.0.0.0/24"]
    assert source_ip(client, PROXY, "10.0.0.7, 10.0.0.8") == "10.0.0.7"


@pytest.mark.django_db
def test_a_malformed_entry_stops_the_walk_and_is_never_the_client(client, settings):
    settings.KEYFAX_TRUSTED_PROXIES = ["10.0.0.0/24"]
    # Right of the malformed entry a trusted hop vouches for itself; nothing left of it counts.
    assert source_ip(client, PROXY, f"{SPOOFED}, not-an-address, 10.0.0.7") == "10.0.0.7"
    # Nothing usable at all: the client stays the proxy, never a spoofed entry.
    for forwarded_for in (f"{SPOOFED}, unknown", f"{SPOOFED}, ", f"{SPOOFED}, 1.2.3.4:x",
                          f"{SPOOFED}, 203.0.113.256", f"{SPOOFED}, [2001:db8::1",
                          f"{SPOOFED}, fe80::1%eth0", "", "\x00"):
        assert source_ip(client, PROXY, forwarded_for) == PROXY, forwarded_for
    # No header at all: a request from the proxy itself.
    assert source_ip(client, PROXY) == PROXY


@pytest.mark.django_db
@pytest.mark.parametrize(("forwarded_for", "expected"), [
    (f"{CLIENT}:4711", CLIENT),  # as Azure Application Gateway writes it
    ("2001:db8:ffff::9", "2001:db8:ffff::9"),
    ("[2001:db8:ffff::9]:4711", "2001:db8:ffff::9"),
    ("[2001:db8:ffff::9]", "2001:db8:ffff::9"),
    ("2001:DB8:FFFF:0:0:0:0:9", "2001:db8:ffff::9"),  # normalised
    (f"::ffff:{CLIENT}", CLIENT),  # IPv4-mapped, read as IPv4
])
def test_ports_and_ipv6_forms_are_read(client, settings, forwarded_for, expected):
    settings.KEYFAX_TRUSTED_PROXIES = [PROXY]
    assert source_ip(client, PROXY, forwarded_for) == expected


@pytest.mark.django_db
def test_an_ipv6_proxy_and_an_ipv4_mapped_peer_are_trusted(client, settings):
    settings.KEYFAX_TRUSTED_PROXIES = ["2001:db8:1::/64", PROXY]
    assert source_ip(client, "2001:db8:1::5", f"{SPOOFED}, 2001:db8:ffff::9") == (
        "2001:db8:ffff::9"
    )
    assert source_ip(client, f"::ffff:{PROXY}", CLIENT) == CLIENT
    assert source_ip(client, "2001:db8:2::5", CLIENT) == "2001:db8:2::5"


# --- X-Request-ID -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_request_id_is_kept_only_from_a_trusted_proxy(client, settings):
    settings.KEYFAX_TRUSTED_PROXIES = [PROXY]
    proxied, response = refusal(
        client, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=CLIENT,
        HTTP_X_REQUEST_ID="proxy-req-0001",
    )
    assert response["X-Request-ID"] == proxied.request_id == "proxy-req-0001"
    assert proxied.source_ip == CLIENT

    direct, response = refusal(client, REMOTE_ADDR=ELSEWHERE, HTTP_X_REQUEST_ID="client-0002")
    assert FRESH_ID.match(direct.request_id)
    assert response["X-Request-ID"] == direct.request_id
    assert direct.source_ip == ELSEWHERE

    # Not well-formed: a fresh id, even from the proxy.
    for incoming in ("short", "x" * 65, "has space!", "a/b/c/d/e/f"):
        event, response = refusal(client, REMOTE_ADDR=PROXY, HTTP_X_REQUEST_ID=incoming)
        assert FRESH_ID.match(event.request_id) and response["X-Request-ID"] == event.request_id


@pytest.mark.django_db
def test_nobody_can_stamp_a_victims_reference_on_their_own_events(client, settings):
    """The issue's story: a refusal reference, once seen, cannot be reused from outside."""
    victim, response = refusal(client, REMOTE_ADDR=CLIENT)
    reference = response["X-Request-ID"]
    assert victim.request_id == reference

    attacker, response = refusal(client, REMOTE_ADDR=ELSEWHERE, HTTP_X_REQUEST_ID=reference)
    assert attacker.request_id != reference and response["X-Request-ID"] != reference
    assert list(AuditEvent.objects.filter(request_id=reference)) == [victim]


# --- keyfax.E012 --------------------------------------------------------------------------


def e012(settings, value) -> list[str]:
    settings.KEYFAX_TRUSTED_PROXIES = value
    return [m.msg for m in checks.run_checks(tags=[checks.Tags.security]) if m.id == "keyfax.E012"]


@pytest.mark.parametrize("entry", [
    "10.0.0.300", "proxy.example", "10.0.0.0/33", "10.0.0.1/8", "0.0.0.0/0", "::/0",
    "fe80::1%eth0", f"::ffff:{PROXY}", "10.0.0.1-10.0.0.9", "*",
])
def test_a_bad_trusted_proxy_entry_is_a_check_error(settings, entry):
    problems = e012(settings, ["10.0.0.5", entry, "2001:db8::/32"])
    assert len(problems) == 1 and repr(entry) in problems[0]


def test_good_entries_pass_the_check_and_a_bad_one_fails_manage_py_check(settings):
    assert e012(settings, " 10.0.0.5 , 10.1.0.0/24,2001:db8::/32, 2001:db8::7,") == []
    settings.KEYFAX_TRUSTED_PROXIES = ["10.0.0.5", "proxy.example"]
    with pytest.raises(SystemCheckError, match=r"keyfax\.E012.*'proxy\.example'"):
        call_command("check")


def test_the_environment_variable_reaches_the_check():
    """`KEYFAX_TRUSTED_PROXIES` as an operator sets it, read by settings.py."""
    environ = {**os.environ, "KEYFAX_TRUSTED_PROXIES": "10.0.0.5,10.1.0.0/24,10.2.0.1/16"}
    environ.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=environ,
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode != 0
    assert "keyfax.E012" in result.stderr and "'10.2.0.1/16'" in result.stderr
    assert "'10.0.0.5'" not in result.stderr and "'10.1.0.0/24'" not in result.stderr


@pytest.mark.django_db
def test_a_refused_entry_is_trusted_nowhere(client, settings):
    settings.KEYFAX_TRUSTED_PROXIES = [f"{PROXY}/8", "10.0.0.2"]
    assert source_ip(client, "10.0.0.2", CLIENT) == CLIENT
    assert source_ip(client, PROXY, CLIENT) == PROXY


# --- over a real socket -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_over_a_real_socket_repeated_headers_are_one_list(live_server, settings):
    """A WSGI server joins repeated ``X-Forwarded-For`` lines with commas, in order."""
    settings.KEYFAX_TRUSTED_PROXIES = ["127.0.0.1"]
    parts = urlsplit(live_server.url)

    def send(method: str, path: str, headers: list[tuple[str, str]], body: str = ""):
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        connection.putrequest(method, path)
        for name, value in headers:
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body.encode())))
        connection.endheaders(body.encode())
        response = connection.getresponse()
        response.read()
        connection.close()
        return response

    page = send("GET", "/accounts/login/", [])
    token = re.search(r"csrftoken=([^;]+)", page.getheader("Set-Cookie", "")).group(1)
    form = urlencode({"username": "nobody.here", "password": "wrong",
                      "csrfmiddlewaretoken": token})
    response = send("POST", "/accounts/login/", [
        ("Cookie", f"csrftoken={token}"),
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("X-Forwarded-For", f"{SPOOFED}, {ELSEWHERE}"),  # what the client sent
        ("X-Forwarded-For", CLIENT),  # what the proxy appended, as its own line
        ("X-Request-ID", "socket-req-0004"),
    ], form)

    assert response.status == 400
    event = AuditEvent.objects.latest("id")
    assert (event.reason, event.source_ip, event.request_id) == (
        "bad_credentials", CLIENT, "socket-req-0004"
    )
