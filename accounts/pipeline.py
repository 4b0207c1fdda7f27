"""The sign-in callback as one ordered list of small steps (``KEYFAX_SIGN_IN_PIPELINE``).

Like social-core's ``SOCIAL_AUTH_PIPELINE``, the list in settings is the whole story of a
callback, from the state check to the audit event; the view only runs it. Each step is a
function of the :class:`SignInContext`, declared with :func:`sign_in_step`: which context
fields it ``needs``, which it ``gives``, and whether it ``writes`` to the database. A step
refuses by raising :class:`SignInRefused`.

Steps that write run in one transaction, opened at the first of them, so a refusal at any
point leaves no row changed; the refusal's audit event is written afterwards, on its own.
Steps that talk to Entra come first and hold no database lock while they wait.
:func:`pipeline_problems` checks that every step imports and that each finds what it needs
(``manage.py check`` reports it as ``keyfax.E010``; a callback refuses to run a bad list).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field, fields
from functools import cache
from importlib import import_module
from typing import Any, Protocol

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.http import HttpRequest
from django.utils.module_loading import import_string

from accounts.models import EntraIdentity, User
from accounts.refusals import Reason, SignInRefused
from accounts.sso_config import Element, SsoConfig


class Entitlements(Protocol):
    """What the person's roles and groups map to (``permissions.mappings.Entitlements``)."""

    staff: bool
    superuser: bool

    def admits(self, element: Element) -> bool: ...


@dataclass
class SignInContext:
    """What the steps of one callback know; each field is filled by the step that gives it."""

    request: HttpRequest
    config: SsoConfig
    backend: Any  # accounts.backends.EntraOIDCBackend: the protocol steps' methods
    # check_state: what this browser's sign-in started with
    nonce: str = ""
    code_verifier: str = ""
    next_url: str | None = None
    target: Element | None = None  # the element the sign-in is for, from ``next``
    for_django_admin: bool = False  # ``next`` is in Django admin (IT's surface)
    revalidating: int | None = None  # a silent re-check of this signed-in user's session
    # exchange_code, verify_id_token
    tokens: dict[str, Any] = field(default_factory=dict)
    claims: dict[str, Any] = field(default_factory=dict)
    # resolve_groups_overage: groups read from Microsoft Graph (None: the token's own claim)
    graph_groups: list[str] | None = None
    # decide_access
    entitlements: Entitlements | None = None  # None: no element takes permissions from Entra
    verdicts: dict[Element, str] = field(default_factory=dict)
    admitted: set[Element] = field(default_factory=set)
    # find_person, provision_or_update_user
    identity: EntraIdentity | None = None
    user: User | None = None
    created: bool = False
    notes: dict[str, Any] = field(default_factory=dict)  # added to the sign-in audit event

    @property
    def tenant_id(self) -> str:
        return str(self.claims["tid"]).lower()

    @property
    def object_id(self) -> str:
        return str(self.claims["oid"]).lower()

    @property
    def roles(self) -> list[str]:
        """App-role values; anything but a list of strings counts as no roles."""
        roles = self.claims.get("roles")
        if not isinstance(roles, list):
            return []
        return [role for role in roles if isinstance(role, str)]

    @property
    def has_groups_overage(self) -> bool:
        """Entra left ``groups`` out (too many) and pointed at Graph instead."""
        names = self.claims.get("_claim_names")
        return isinstance(names, dict) and "groups" in names

    @property
    def groups(self) -> list[str]:
        if self.graph_groups is not None:
            return list(self.graph_groups)
        groups = self.claims.get("groups")
        if not isinstance(groups, list):
            return []
        return [group for group in groups if isinstance(group, str)]


CONTEXT_FIELDS = frozenset(f.name for f in fields(SignInContext)) - {"request", "config",
                                                                      "backend"}
Step = Callable[[SignInContext], None]


def sign_in_step(
    *, needs: Iterable[str] = (), gives: Iterable[str] = (), writes: bool = False
) -> Callable[[Step], Step]:
    """Declare a pipeline step: the context fields it reads and fills, and whether it writes."""
    needs, gives = frozenset(needs), frozenset(gives)
    unknown = (needs | gives) - CONTEXT_FIELDS
    if unknown:
        raise TypeError(f"not SignInContext fields: {', '.join(sorted(unknown))}")

    def declare(step: Step) -> Step:
        step.needs, step.gives, step.writes = needs, gives, writes  # type: ignore[attr-defined]
        return step

    return declare


def pipeline_problems(paths: Iterable[str]) -> list[str]:
    """Why this list of dotted paths cannot be a sign-in pipeline; empty when it can.

    Every step must import and be declared with :func:`sign_in_step`; every field a step
    needs must be given by an earlier step; and no step may write before the access
    decision (``admitted``) is made.
    """
    problems: list[str] = []
    given: set[str] = set()
    for path in paths:
        try:
            step = import_string(path)
        except Exception as error:  # a typo, or a module that fails as it loads
            problems.append(f"{path} does not import ({type(error).__name__}: {error})")
            continue
        if not hasattr(step, "needs"):
            problems.append(f"{path} is not declared with @sign_in_step")
            continue
        missing = step.needs - given
        if missing:
            problems.append(f"{path} needs {', '.join(sorted(missing))}, which no earlier "
                            "step gives")
        if step.writes and "admitted" not in given:
            problems.append(f"{path} writes before the access decision (decide_access)")
        given |= step.gives
    for required in ("user", "admitted"):
        if required not in given:
            problems.append(f"no step gives {required}: nobody could ever be signed in")
    return problems


@cache
def _load(paths: tuple[str, ...]) -> tuple[Step, ...]:
    problems = pipeline_problems(paths)
    if problems:
        raise SignInRefused(Reason.SIGN_IN_MISCONFIGURED, {"pipeline": problems[:5]})
    return tuple(import_string(path) for path in paths)


def run_pipeline(context: SignInContext) -> SignInContext:
    """Run ``KEYFAX_SIGN_IN_PIPELINE`` over ``context``; the writes commit together or not at
    all. Raises :class:`SignInRefused` (nothing written) or returns the filled context."""
    steps = _load(tuple(settings.KEYFAX_SIGN_IN_PIPELINE))
    in_transaction = False
    try:
        with ExitStack() as stack:
            for step in steps:
                if step.writes and not in_transaction:  # the first write opens it
                    session_key = context.request.session.session_key
                    stack.enter_context(transaction.atomic())
                    in_transaction = True
                step(context)
    except SignInRefused:
        if in_transaction:
            _undo_login(context.request, session_key,
                        signed_in=context.revalidating is not None)
        raise
    return context


def _undo_login(request: HttpRequest, session_key: str | None, *, signed_in: bool) -> None:
    """The rolled-back writes may have included ``login()``: the request goes back to the
    session it came with (as saved before the writes) and, unless this was a re-check of a
    signed-in session (which never logs in), to nobody signed in."""
    request.session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    if not signed_in:
        request.user = AnonymousUser()
