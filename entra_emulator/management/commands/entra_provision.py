"""``manage.py entra_provision``: replay Entra's provisioning cycle for one demo person
against the Keyfax site's SCIM endpoint, over HTTP (development only)."""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from entra_emulator import PeopleFileError, Person, load_people
from entra_emulator.provisioning import STEPS, Provisioner
from entra_emulator.scim_client import ProvisioningError, ScimClient


class Command(BaseCommand):
    help = (
        "Send Entra ID's SCIM provisioning requests for one demo person (object id or UPN "
        "from fixtures/entra_people.json) to the site: test connection, look-up, create, "
        "update, disable, enable, delete. The token comes from `manage.py scim_token create "
        "NAME`, given with --token or the SCIM_TOKEN environment variable."
    )
    # A client of the site over HTTP: it needs neither the database nor the site's checks.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("person", help="the demo person's object id or UPN")
        parser.add_argument("--site", default="http://127.0.0.1:8000",
                            help="the Keyfax site (default http://127.0.0.1:8000)")
        parser.add_argument("--token", default=None,
                            help="the SCIM bearer token (default: $SCIM_TOKEN)")
        parser.add_argument("--step", choices=("all", *STEPS), default="all",
                            help="one step, or all of them in Entra's order (default all)")
        parser.add_argument("--pause", type=float, default=0.0,
                            help="seconds to wait between steps, to watch each one land")
        parser.add_argument("--family-name", default=None,
                            help="the family name the update step sends (default: the "
                                 "people file's, i.e. what Entra holds)")
        parser.add_argument("--active-as-string", action="store_true",
                            help='send active as "True"/"False", as Entra does without '
                                 "the aadOptscim062020 flag")
        parser.add_argument("--people", default=None,
                            help="people JSON file (default fixtures/entra_people.json)")

    def handle(self, *args: Any, **options: Any) -> None:
        token = (options["token"] or os.environ.get("SCIM_TOKEN") or "").strip()
        if not token:
            raise CommandError(
                "Give the SCIM token with --token or the SCIM_TOKEN environment variable "
                "(`manage.py scim_token create NAME` prints one).")
        if options["pause"] < 0:
            raise CommandError("--pause must be 0 or more seconds.")
        person = _person(options["person"], options["people"])
        steps = STEPS if options["step"] == "all" else (options["step"],)
        try:
            client = ScimClient(options["site"], token)
        except ProvisioningError as exc:
            raise CommandError(str(exc)) from exc
        provisioner = Provisioner(client, person, family_name=options["family_name"],
                                  active_as_string=options["active_as_string"])
        self.stdout.write(f"Provisioning {person.name} ({person.upn}, Entra object id "
                          f"{person.oid}) to {client.base_url}")
        try:
            for index, step in enumerate(steps):
                if index and options["pause"]:
                    time.sleep(options["pause"])
                if step == "create" and len(steps) > 1 and provisioner.user_id:
                    self.stdout.write("create: skipped (already provisioned: Entra updates "
                                      "them instead of creating them again)")
                    continue
                for line in provisioner.run(step):
                    self.stdout.write(line)
        except ProvisioningError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            client.close()


def _person(wanted: str, path: str | None) -> Person:
    """The demo person whose object id or UPN is ``wanted``."""
    try:
        people = load_people(path)
    except PeopleFileError as exc:
        raise CommandError(str(exc)) from exc
    key = wanted.strip().lower()
    with contextlib.suppress(ValueError):  # an object id in any case or form
        key = str(uuid.UUID(key))
    for person in people:
        if key in (person.oid, person.upn.lower()):
            return person
    raise CommandError(
        f"No demo person has the object id or UPN {wanted!r}. The people file has: "
        + ", ".join(person.upn for person in people))
