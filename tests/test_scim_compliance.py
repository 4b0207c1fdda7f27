"""scim2-tester's compliance checks against the real /scim/v2/ endpoint, in process.

The whole site (``get_wsgi_application()``: every middleware, the bearer-token view,
scim2-server's handler over the Django storage) is driven through scim2-client's WSGI engine,
so each check is a real HTTP request without a socket. Every check the tester runs must
succeed; the one thing it may skip is searching several resource types at once
(``POST /.search`` at the root), which Keyfax deliberately does not serve.

The second test proves this test can fail: a server that drops every update is caught.
"""

from __future__ import annotations

import logging
from collections import Counter

import pytest
from django.core.cache import cache
from django.core.wsgi import get_wsgi_application
from scim2_client.engines.wsgi import WSGISCIMClient
from scim2_tester import Status, check_server

from tests.tokens import TENANT_ID

# The WSGI application opens its own connections and transactions (one per SCIM operation),
# as in production: data is committed for real, then flushed after each test.
pytestmark = pytest.mark.django_db(transaction=True)

BASE_URL = "http://127.0.0.1/scim/v2"
ROOT_SEARCH_NOT_SERVED = "searching several resource types at once is not supported"


@pytest.fixture
def scim_client(settings):
    """A scim2-client over the whole site (WSGI, in process), with a live bearer token."""
    from scim import tokens

    settings.ENTRA_TENANT_ID = TENANT_ID  # SCIM links accounts to this tenant: a GUID
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]
    cache.clear()  # no failed-token count left behind by another test
    token = tokens.create("scim2-tester")
    application = get_wsgi_application()  # django.setup(): logging configured again
    quiet = logging.getLogger("django.request")  # the tester's expected 404s, 405s, 409s
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        yield WSGISCIMClient(application, base_url=BASE_URL,
                             headers={"Authorization": f"Bearer {token}"})
    finally:
        quiet.setLevel(level)
        cache.clear()


def is_root_search_skip(result) -> bool:
    return result.status == Status.SKIPPED and ROOT_SEARCH_NOT_SERVED in (result.reason or "")


def describe(results) -> str:
    return "\n".join(f"- {r.status.name} {r.title}: {r.reason}" for r in results)


def test_every_scim2_tester_check_succeeds(scim_client):
    results = check_server(scim_client)

    assert len(results) > 50, f"scim2-tester ran only {len(results)} checks:\n" \
                              f"{describe(results)}"
    failures = [r for r in results if r.status != Status.SUCCESS and not is_root_search_skip(r)]
    assert not failures, (
        f"{len(failures)} of {len(results)} scim2-tester checks did not succeed "
        f"({dict(Counter(r.status.name for r in results))}):\n{describe(failures)}")
    # the checks that matter to Entra all ran and passed
    titles = {r.title for r in results if r.status == Status.SUCCESS}
    assert {"service_provider_config_endpoint", "query_all_schemas",
            "query_all_resource_types", "object_creation", "object_query",
            "object_replacement", "check_add_attribute", "check_replace_attribute",
            "check_remove_attribute", "object_deletion"} <= titles, sorted(titles)


def test_the_tester_catches_a_server_that_drops_updates(scim_client, monkeypatch):
    """Proof this compliance test can fail: PATCH and PUT on a User answer 200 with the
    resource unchanged, and the tester reports it."""
    from scim.users import UserStore

    def dropped(self, resource):
        return self.get(str(resource.id))

    monkeypatch.setattr(UserStore, "update", dropped)

    results = check_server(scim_client)

    errors = [r for r in results if r.status == Status.ERROR]
    assert errors, f"the tester did not notice dropped updates:\n{describe(results)}"
    caught_by = {r.title for r in errors}
    assert caught_by & {"check_add_attribute", "check_replace_attribute",
                        "check_remove_attribute", "object_replacement"}, describe(errors)
    assert all(r.status in (Status.SUCCESS, Status.ERROR) or is_root_search_skip(r)
               for r in results), describe(results)
