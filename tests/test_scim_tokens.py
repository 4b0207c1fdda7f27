"""SCIM bearer tokens: made and revoked with manage.py scim_token, stored hashed, listed in
Django admin without ever showing a token again."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from scim import tokens
from scim.models import ScimToken
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("scim_token", *args, stdout=out)
    return out.getvalue()


def test_create_prints_the_token_once_alone_on_its_last_line_and_stores_only_its_hash():
    output = run("create", "entra-prod")

    token = output.rstrip("\n").splitlines()[-1]
    stored = ScimToken.objects.get(name="entra-prod")
    assert len(token) >= 40 and " " not in token
    assert stored.digest == tokens.digest(token) != token
    assert token not in str(list(ScimToken.objects.values()))
    assert tokens.authenticate(token) == stored
    [event] = AuditEvent.objects.filter(action="scim_change")
    assert event.detail == {"token": "entra-prod", "change": "token_created"}
    assert token not in str(event.detail)


def test_revoke_ends_the_token_and_a_second_revoke_or_unknown_name_is_a_clear_error():
    token = tokens.create("entra-prod")
    run("revoke", "entra-prod")

    assert tokens.authenticate(token) is None
    with pytest.raises(CommandError, match="already revoked"):
        run("revoke", "entra-prod")
    with pytest.raises(CommandError, match="No SCIM token is called"):
        run("revoke", "nobody")
    assert AuditEvent.objects.filter(action="scim_change",
                                     detail__change="token_revoked").count() == 1


def test_names_are_unique_and_required():
    run("create", "entra-prod")
    with pytest.raises(CommandError, match="exists"):
        run("create", "entra-prod")
    with pytest.raises(CommandError, match="Name the token"):
        run("create")
    assert ScimToken.objects.count() == 1


def test_list_shows_names_and_use_never_tokens():
    token = tokens.create("entra-prod")
    tokens.authenticate(token)

    listing = run("list")

    assert "entra-prod" in listing and "last used" in listing and token not in listing


def test_django_admin_lists_tokens_without_them_and_revokes_them(client):
    token = tokens.create("entra-prod")
    client.force_login(UserFactory(username="it-admin", is_staff=True, is_superuser=True))

    page = client.get("/django-admin/scim/scimtoken/")
    response = client.post("/django-admin/scim/scimtoken/", {
        "action": "revoke", "_selected_action": [ScimToken.objects.get().pk]})

    assert page.status_code == 200 and "entra-prod" in page.text and token not in page.text
    assert tokens.digest(token) not in page.text
    assert client.get("/django-admin/scim/scimtoken/add/").status_code == 403
    assert response.status_code == 302
    assert tokens.authenticate(token) is None
