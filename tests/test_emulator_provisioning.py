"""``manage.py entra_provision``: the emulator replays Entra's provisioning cycle against the
site's SCIM endpoint over real HTTP (live server), and what each step does to the account."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import EntraIdentity, User
from audit.models import AuditEvent
from tests import people
from tests.tokens import TENANT_ID

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AUTHOR = people.person("Script author")  # Priya Shah
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def token(entra):
    """A SCIM token for a site (live server) whose tenant is the emulator's."""
    from scim import tokens

    cache.clear()  # no failed-token count left by another test
    yield tokens.create("emulator-test")
    cache.clear()


def provision(site: str, token: str, step: str, *extra: str, person: str = AUTHOR["upn"]
              ) -> list[str]:
    out = io.StringIO()
    call_command("entra_provision", person, "--site", site, f"--token={token}", "--step", step,
                 *extra, stdout=out)
    return out.getvalue().splitlines()


def identity() -> EntraIdentity:
    return EntraIdentity.objects.select_related("user").get(object_id=AUTHOR["oid"])


def test_the_cycle_up_to_disable_links_then_disables_and_ends_sessions(
        token, live_server, browser):
    assert provision(live_server.url, token, "test")[1].startswith(
        'test connection: GET /scim/v2/Users?filter=userName eq "')
    assert "not provisioned yet" in provision(live_server.url, token, "lookup")[1]
    created = provision(live_server.url, token, "create")
    assert created[1] == (
        f"create: POST /scim/v2/Users → 201 (account created (or a deleted one restored), "
        f"linked to Entra object id {AUTHOR['oid']}: their sign-in will find it)")
    provision(live_server.url, token, "update", "--family-name", "Shah-Jones")

    linked = identity()
    assert (str(linked.tenant_id), linked.user.username) == (TENANT_ID, AUTHOR["upn"])
    assert (linked.user.last_name, linked.user.email) == ("Shah-Jones", AUTHOR["email"])
    assert linked.user.is_active
    # Her sign-in finds the provisioned account instead of making another.
    assert browser.sign_in(AUTHOR["oid"], next_url="/").status_code == 302
    assert User.objects.count() == 1
    assert identity().user_id == linked.user_id

    disabled = provision(live_server.url, token, "disable")

    assert disabled[1].startswith("lookup: GET /scim/v2/Users?filter=userName eq ")
    assert disabled[2] == (f"disable: PATCH /scim/v2/Users/{AUTHOR['oid']} → 200 "
                           "(active=false: the person's open sessions end now)")
    account = identity()
    assert account.user_id == linked.user_id
    assert not account.user.is_active
    ended = browser.get("/")
    assert ended.status_code == 401
    assert "Your Keyfax session has ended" in ended.text


def test_enable_sends_entras_string_booleans_and_reactivates(token, live_server):
    provision(live_server.url, token, "create")
    provision(live_server.url, token, "disable", "--active-as-string")
    assert not identity().user.is_active

    enabled = provision(live_server.url, token, "enable", "--active-as-string")

    assert enabled[-1].startswith(f"enable: PATCH /scim/v2/Users/{AUTHOR['oid']} → 200")
    assert identity().user.is_active


def test_step_all_replays_the_whole_cycle_and_delete_retires(token, live_server):
    lines = provision(live_server.url, token, "all", person=AUTHOR["oid"].upper())

    steps = [line.split(":", 1)[0] for line in lines[1:]]
    assert steps == ["test connection", "lookup", "create", "update", "disable", "enable",
                     "delete"]
    assert lines[-1] == (f"delete: DELETE /scim/v2/Users/{AUTHOR['oid']} → 204 (retired: "
                         "access removed, the account kept for the audit log; a create with "
                         "the same object id restores it)")
    gone = requests.get(f"{live_server.url}/scim/v2/Users/{AUTHOR['oid']}", timeout=10,
                        headers={"Authorization": f"Bearer {token}"})
    assert gone.status_code == 404
    kept = identity()  # retired, not deleted: the audit log keeps naming a person who exists
    assert not kept.user.is_active
    assert kept.user.username == AUTHOR["upn"]  # nobody else can take it by accident
    created = AuditEvent.objects.get(action="user_created")
    assert created.actor_kind == "scim"
    assert created.detail["credential"] == "emulator-test"

    again = provision(live_server.url, token, "create")  # same object id: restored

    assert again[1].startswith("create: POST /scim/v2/Users → 201")
    restored = identity()
    assert restored.user_id == kept.user_id and restored.user.is_active
    found = requests.get(f"{live_server.url}/scim/v2/Users/{AUTHOR['oid']}", timeout=10,
                         headers={"Authorization": f"Bearer {token}"})
    assert found.status_code == 200


def test_a_step_that_needs_the_account_says_to_create_it_first(token, live_server):
    with pytest.raises(CommandError, match=r"not provisioned on the site \(or was deleted\): "
                                           r"run --step create first"):
        provision(live_server.url, token, "disable")


def test_creating_twice_is_an_unexpected_status_with_the_sites_reason(token, live_server):
    provision(live_server.url, token, "create")

    with pytest.raises(CommandError, match=r"create: POST /scim/v2/Users → 409, but Entra "
                                           r"expects 201\. The site said: .*already has"):
        provision(live_server.url, token, "create")


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "entra_provision", *args], cwd=REPO, capture_output=True,
        text=True, timeout=60, env={**os.environ, "DEBUG": "true", **env},
    )


def test_a_wrong_token_exits_non_zero_with_a_message(token, live_server):
    result = _run(AUTHOR["upn"], "--site", live_server.url, SCIM_TOKEN="not-the-token")

    assert result.returncode != 0
    assert "401: the site refused the SCIM token" in result.stderr
    assert "scim_token create" in result.stderr
    assert not EntraIdentity.objects.exists()


def test_an_unreachable_site_or_no_token_exits_non_zero_with_a_message(unused_port):
    unreachable = _run(AUTHOR["upn"], "--site", f"http://127.0.0.1:{unused_port}",
                       "--token=x")
    assert unreachable.returncode != 0
    assert "Cannot reach the Keyfax site" in unreachable.stderr

    no_token = _run(AUTHOR["upn"], SCIM_TOKEN="")
    assert no_token.returncode != 0
    assert "--token or the SCIM_TOKEN environment variable" in no_token.stderr


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_requests_have_entras_exact_shapes():
    from entra_emulator import load_people
    from entra_emulator.provisioning import replace, user_document

    priya = next(p for p in load_people() if p.oid == AUTHOR["oid"])

    # Entra's create for Priya, as its provisioning logs show it (objectId → externalId).
    assert user_document(priya) == {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "externalId": "3f5d8a2b-7c1e-4b9a-8d6f-2e4c6a8b0d1f",
        "userName": "priya.shah@riverside-homes.example", "active": True,
        "emails": [{"primary": True, "type": "work",
                    "value": "priya.shah@riverside-homes.example"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "Priya Shah", "familyName": "Shah", "givenName": "Priya"},
        "roles": [],
    }
    assert replace("active", "False") == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Replace", "path": "active", "value": "False"}],
    }
