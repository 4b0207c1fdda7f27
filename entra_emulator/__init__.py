"""A development imitation of Microsoft Entra ID (v2 endpoints, one tenant).

The server is plain WSGI on ``wsgiref`` and needs no Django; this package is a Django app
only so that ``manage.py entra_emulator`` (and ``entra_provision``, which replays Entra's SCIM
provisioning requests against the site over HTTP: :mod:`.provisioning`) exists, and the
settings install it only when DEBUG is on. Used by that command, ``make run`` and the tests::

    emu = EntraEmulator(tenant_id=..., client_id=..., client_secret=..., people=load_people())
    emu.start()  # emu.base_url is both ENTRA_AUTHORITY and ENTRA_GRAPH_URL

The people's lifecycle can be changed while it runs, as an Entra administrator would:
``/_emulator/people`` (a page, and a JSON control: :mod:`.lifecycle`, ``manage.py
entra_person``), ``emu.directory`` in tests; signing out runs front-channel logout
(:mod:`.sign_out`); ``GET /v1.0/users?$search=...`` answers Graph's user search
(:mod:`.graph_search`).
"""

from .people import PeopleFileError, Person, generated_group_ids, load_people
from .server import EntraEmulator

__all__ = ["EntraEmulator", "PeopleFileError", "Person", "generated_group_ids", "load_people"]
