"""User Maintenance queries: the filtered, sorted list and what the edit page shows.

The list is one query for the page's rows and one for the count, whatever the filters:
types are ``EXISTS`` subqueries, never per-row lookups.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db.models import CharField, F, Func, Q, QuerySet
from django.db.models.functions import Upper
from django.db.models.lookups import IContains

from accounts.models import EntraIdentity, User
from accounts.sso_config import Element
from audit.models import Action, AuditEvent
from permissions import catalogue
from permissions.models import EntraGrant


class UserType:
    """The list's "type" filter values."""

    ADMINISTRATIVE = "administrative"
    WEB_STAFF = "staff"
    DISABLED = "disabled"
    ENTRA = "entra"
    LOCAL = "local"
    CHOICES = (
        (ADMINISTRATIVE, "Administrative (Administration Tool or Django admin)"),
        (WEB_STAFF, "Web Staff"),
        (DISABLED, "Disabled"),
        (ENTRA, "Entra-linked"),
        (LOCAL, "Local account"),
    )


# sort key → order_by fields (ascending); "-key" sorts descending. Ties break on the id.
SORTS: dict[str, tuple[Any, ...]] = {
    "username": (Upper("username"),),
    "name": ("last_name", "first_name"),
    "group": ("user_group", "username"),
    "joined": ("date_joined",),
    "last_sign_in": (F("entra_identity__last_sign_in_at"),),
}
SORT_LABELS = {
    "username": "Username", "name": "Name", "group": "User Group",
    "joined": "Created", "last_sign_in": "Last sign-in",
}
DEFAULT_SORT = "username"
NULLABLE_SORTS = {"last_sign_in"}  # never signed in: last, whichever the direction


def _permission_ids(element: Element) -> QuerySet[Permission]:
    """The ids of ``element``'s catalogue permissions, as a subquery: one ``codename IN``
    per app label (exactly ``catalogue.permission_rows``, cheaper to compile)."""
    by_label: dict[str, list[str]] = {}
    for app_label, codename in sorted(catalogue.keys(element)):
        by_label.setdefault(app_label, []).append(codename)
    query = Q(pk__in=[])
    for app_label, codenames in by_label.items():
        query |= Q(content_type__app_label=app_label, codename__in=codenames)
    return Permission.objects.filter(query).values("pk")


def holds_element(element: Element) -> Q:
    """Users holding any of ``element``'s permissions, directly or through a Django group.

    Two uncorrelated ``IN`` subqueries: PostgreSQL hashes each once instead of probing per
    user, which keeps a filter over every user fast.
    """
    rows = _permission_ids(element)
    direct = User.user_permissions.through.objects.filter(permission_id__in=rows)
    via_group = User.groups.through.objects.filter(group__permissions__in=rows)
    return Q(pk__in=direct.values("user_id")) | Q(pk__in=via_group.values("user_id"))


SEARCHED_FIELDS = ("username", "first_name", "last_name", "email", "user_group")


class SearchText(Func):
    """A user's searched fields as one space-separated text: one ``LIKE`` per user and word
    instead of five. On PostgreSQL a trigram index answers it: ``accounts`` migration 0004
    indexes exactly this SQL (all five columns are NOT NULL)."""

    template = "(%(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = CharField()

    def __init__(self) -> None:
        super().__init__(*SEARCHED_FIELDS)


SEARCH_WORDS = 5  # words of a search that count; more only narrow an already short list


def matching(q: str) -> Q:
    """Users matching every word of ``q`` (any case), each word in their username, names,
    email, User Group or UPN: "smith gas" finds the Smiths in the Gas group.

    Per word, two ``IN`` subqueries, each read through its own trigram index on PostgreSQL
    (the outer query then only probes two hashed id sets per user).
    """
    found = Q()
    for word in q.split()[:SEARCH_WORDS]:
        fields = User.objects.filter(IContains(SearchText(), word)).values("pk")
        upn = EntraIdentity.objects.filter(upn__icontains=word).values("user_id")
        found &= Q(pk__in=fields) | Q(pk__in=upn)
    return found


def _type_filter(kind: str) -> Q:
    return {
        UserType.ADMINISTRATIVE: Q(is_staff=True) | Q(is_superuser=True)
        | holds_element(Element.ADMIN_TOOL),
        UserType.WEB_STAFF: holds_element(Element.WEB_STAFF),
        UserType.DISABLED: Q(is_active=False),
        UserType.ENTRA: Q(entra_identity__isnull=False),
        UserType.LOCAL: Q(entra_identity__isnull=True),
    }.get(kind, Q())


def order_fields(sort: str) -> tuple[Any, ...]:
    """``order_by`` arguments for a sort key; unknown keys fall back to the default."""
    key = sort.removeprefix("-")
    if key not in SORTS:
        key, sort = DEFAULT_SORT, DEFAULT_SORT
    descending = sort.startswith("-")
    fields = []
    nulls = {"nulls_last": True} if key in NULLABLE_SORTS else {}
    for item in SORTS[key]:
        expression = F(item) if isinstance(item, str) else item
        fields.append(expression.desc(**nulls) if descending else expression.asc(**nulls))
    return (*fields, "-pk" if descending else "pk")


def user_rows(ids: QuerySet, sort: str = DEFAULT_SORT) -> QuerySet[User]:
    """The users with these ids (a subquery), joined to their identity, in list order."""
    return (User.objects.select_related("entra_identity")
            .defer("entra_identity__roles", "entra_identity__groups")
            .filter(pk__in=ids).order_by(*order_fields(sort)))


def user_list(
    *, q: str = "", name: str = "", username: str = "", kind: str = "", group: str = "",
    sort: str = DEFAULT_SORT,
) -> QuerySet[User]:
    """The users matching the filters, in list order (page their ids, load the page with
    :func:`user_rows`, then :func:`mark_types` sets its Administrative and Web Staff flags)."""
    users = User.objects.all()
    if q:
        users = users.filter(matching(q))
    if name:
        for word in name.split()[:5]:
            users = users.filter(Q(first_name__icontains=word) | Q(last_name__icontains=word))
    if username:
        users = users.filter(username__icontains=username)
    if kind:
        users = users.filter(_type_filter(kind))
    if group:
        users = users.filter(user_group=group)
    return users.order_by(*order_fields(sort))


def mark_types(people: list[User]) -> list[User]:
    """Set ``administrative`` and ``web_staff`` on a page of users: one query (a UNION ALL,
    each half read through the user's index) for the permissions they hold directly or
    through a Django group."""
    by_id = {user.pk: user for user in people}
    for user in people:
        user.administrative = user.is_staff or user.is_superuser
        user.web_staff = False
    if not by_id:
        return people
    direct = User.user_permissions.through.objects.filter(user_id__in=by_id).values_list(
        "user_id", "permission__content_type__app_label", "permission__codename")
    via_group = User.groups.through.objects.filter(
        user_id__in=by_id, group__permissions__isnull=False,
    ).values_list("user_id", "group__permissions__content_type__app_label",
                  "group__permissions__codename")
    for user_id, app_label, codename in direct.union(via_group, all=True):
        element = catalogue.element_of((app_label, codename))
        if element is Element.ADMIN_TOOL:
            by_id[user_id].administrative = True
        elif element is Element.WEB_STAFF:
            by_id[user_id].web_staff = True
    return people


def user_groups() -> list[str]:
    """The User Group values in use, for the filter (one query over an index)."""
    values = (User.objects.exclude(user_group="").order_by("user_group")
              .values_list("user_group", flat=True).distinct())
    return list(values[:500])


def username_taken(username: str, *, exclude_pk: int | None = None) -> bool:
    """Usernames are unique regardless of case (``Alice`` and ``alice`` are one name)."""
    found = User.objects.filter(username__iexact=username)
    if exclude_pk is not None:
        found = found.exclude(pk=exclude_pk)
    return found.exists()


def person(user_id: int) -> User:
    """The user with their Entra identity (``User.DoesNotExist`` when missing)."""
    return User.objects.select_related("entra_identity").get(pk=user_id)


def identity_of(user: User) -> EntraIdentity | None:
    try:
        return user.entra_identity
    except EntraIdentity.DoesNotExist:
        return None


@dataclass
class EntraPanel:
    identity: EntraIdentity
    last_sync: Any = None  # when Entra last set the permissions (a datetime), if ever
    roles: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)


def entra_panel(user: User) -> EntraPanel | None:
    """The Entra account panel: ids, UPN, last sign-in and sync, roles and groups seen."""
    identity = identity_of(user)
    if identity is None:
        return None
    last_sync = (AuditEvent.objects.filter(subject=f"user:{user.pk}",
                                           action=Action.PERMISSIONS_SYNCED)
                 .order_by("-created_at").values_list("created_at", flat=True).first())
    def strings(values: Any) -> list[str]:
        return [str(v) for v in values] if isinstance(values, list) else []
    return EntraPanel(identity, last_sync, strings(identity.roles), strings(identity.groups))


def provenance(user: User, locked: set[Element]) -> dict[str, dict[str, list[str]]]:
    """element value → codename → where the user's permission comes from.

    Locked elements: the Entra app roles and groups it was synced from. Every element: the
    Django groups carrying it. A direct grant with no Entra source reads "granted in Keyfax".
    """
    found: dict[str, dict[str, list[str]]] = {}

    def add(element: str, codename: str, text: str) -> None:
        found.setdefault(element, {}).setdefault(codename, []).append(text)

    if locked:
        grants = EntraGrant.objects.filter(
            user=user, element__in=[e.value for e in locked]
        ).select_related("permission", "script_set")
        for grant in grants:
            for source in grant.sources:
                kind, _, value = str(source).partition(":")
                text = f"{'group' if kind == 'group' else 'app role'} {value}"
                if grant.script_set_id:
                    text += f" (in Script Set {grant.script_set})"
                add(grant.element, grant.permission.codename, text)
    carried = (Group.permissions.through.objects
               .filter(catalogue.permissions_q(prefix="permission__"), group__user=user)
               .values_list("group__name", "permission__content_type__app_label",
                            "permission__codename"))
    for group_name, app_label, codename in carried:
        element = catalogue.element_of((app_label, codename))
        if element is not None and app_label == catalogue.APP_LABEL:
            add(element.value, codename, f"Django group {group_name}")
    return found
