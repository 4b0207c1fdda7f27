"""Shared helpers for the permission tests (issue 3)."""

from __future__ import annotations

import pytest
from django.apps import apps

from accounts.sessions import ADMITTED_ELEMENTS, SIGN_IN_METHOD
from accounts.sso_config import Element, sso_config
from permissions.defaults import seed_default_mappings
from permissions.services import current_codenames

ADMIN_TOOL_ALL = {"edit_scripts", "publish_scripts", "maintain_users", "view_reports",
                  "view_system_settings"}
WEB_STAFF_ALL = {"run_repair_diagnostics", "run_enquiries_diagnostics"}


@pytest.fixture
def default_mappings(db):
    """The seeded mappings (a transactional test's flush removes the migration's copy)."""
    seed_default_mappings(apps)


def held(user) -> dict[str, set[str]]:
    """The user's site-wide Keyfax permissions by element value, fresh from the database."""
    return {element.value: codes for element, codes in current_codenames(user).items()}


def entra_session(client, user, elements=("admin_tool", "web_staff")) -> None:
    client.force_login(user)
    session = client.session
    session[SIGN_IN_METHOD] = "entra"
    config = sso_config()
    session[ADMITTED_ELEMENTS] = {e: config.admission_key(Element(e)) for e in elements}
    session.save()
