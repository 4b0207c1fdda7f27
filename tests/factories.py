"""factory-boy factories for the tests."""

from __future__ import annotations

import uuid

import factory
from django.contrib.auth.hashers import make_password

from accounts.models import EntraIdentity, User
from tests.tokens import TENANT_ID


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name", locale="en_GB")
    last_name = factory.Faker("last_name", locale="en_GB")
    email = factory.LazyAttribute(lambda u: f"{u.username}@riverside-homes.example")
    password = factory.LazyFunction(lambda: make_password(None))


class LocalUserFactory(UserFactory):
    """A local (break-glass) account with a usable password, ``password`` by default."""

    password = factory.LazyFunction(lambda: make_password("correct horse battery staple"))


class EntraIdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EntraIdentity

    user = factory.SubFactory(UserFactory)
    tenant_id = uuid.UUID(TENANT_ID)
    object_id = factory.LazyFunction(uuid.uuid4)
    upn = factory.LazyAttribute(lambda i: i.user.email)
    email = factory.LazyAttribute(lambda i: i.user.email)


# --- issue 3: permissions ------------------------------------------------------------------


class ScriptSetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "scripts.ScriptSet"
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Script set {n}")
    slug = factory.Sequence(lambda n: f"script-set-{n}")


class RoleMappingFactory(factory.django.DjangoModelFactory):
    """``permissions=["edit_scripts", ...]`` (catalogue codenames) sets the mapped permissions."""

    class Meta:
        model = "permissions.RoleMapping"
        django_get_or_create = ("kind", "value")
        skip_postgeneration_save = True

    kind = "role"
    value = factory.Sequence(lambda n: f"Keyfax.Test{n}")

    @factory.post_generation
    def permissions(self, create, extracted, **kwargs):
        if extracted is not None:
            from permissions.catalogue import global_permission_rows

            self.permissions.set(global_permission_rows().filter(codename__in=extracted))


# --- issue 4: User Maintenance -------------------------------------------------------------


def grant(user, *codenames: str) -> None:
    """Give ``user`` these site-wide Keyfax permissions (catalogue codenames), directly."""
    from permissions.catalogue import global_permission_rows

    user.user_permissions.add(*global_permission_rows().filter(codename__in=codenames))
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(cache, None)


class MaintainerFactory(LocalUserFactory):
    """A local user holding maintain-users (``keyfax_permissions=[...]`` to choose others)."""

    @factory.post_generation
    def keyfax_permissions(self, create, extracted, **kwargs):
        grant(self, *(extracted if extracted is not None else ["maintain_users"]))


class EntraUserFactory(UserFactory):
    """An Entra-linked user (login mode SSO, unusable password) with an identity."""

    login_mode = "sso"
    identity = factory.RelatedFactory(EntraIdentityFactory, factory_related_name="user",
                                      roles=["Keyfax.Staff"])


# --- issue 4: scripts and Web Staff diagnostics -----------------------------------------


class ScriptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "scripts.Script"

    script_set = factory.SubFactory(ScriptSetFactory)
    kind = "repair"
    category = "Plumbing"
    topic = factory.Sequence(lambda n: f"Leaking tap {n}")


class StepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "scripts.Step"

    script = factory.SubFactory(ScriptFactory)
    position = factory.Sequence(lambda n: n)
    question = factory.Sequence(lambda n: f"Question {n}?")


class OutcomeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "scripts.Outcome"

    script = factory.SubFactory(ScriptFactory)
    code = factory.Sequence(lambda n: f"6010{n:02d}")
    description = "Rewasher tap and reseat"
    priority = "R"
    response_days = 5


class AnswerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "scripts.Answer"

    step = factory.SubFactory(StepFactory)
    position = factory.Sequence(lambda n: n)
    text = factory.Sequence(lambda n: f"Answer {n}")
    action = "end"


def leaking_tap_script(**script_fields):
    """A valid two-step repair script: "Where?" → (Kitchen → "Drips?" | Cancel);
    "Drips?" → (Yes → outcome 601011, 5 days | No → outcome 603001, 0 days | Not sure → end).

    Returns ``(script, steps, answers, outcomes)`` as dicts by short name.
    """
    script = ScriptFactory(**script_fields)
    where = StepFactory(script=script, question="Where is the leaking tap?")
    drips = StepFactory(script=script, question="Does it drip when turned off?")
    script.start_step = where
    script.save()
    washer = OutcomeFactory(script=script, code="601011", description="Rewasher tap",
                            priority="R", response_days=5)
    leak = OutcomeFactory(script=script, code="603001", description="Make safe: leak",
                          priority="E", response_days=0)
    answers = {
        "kitchen": AnswerFactory(step=where, text="Kitchen", action="goto", next_step=drips),
        "cancel": AnswerFactory(step=where, text="Not a tenant", action="cancel"),
        "yes": AnswerFactory(step=drips, text="Yes", action="outcome", outcome=washer),
        "no": AnswerFactory(step=drips, text="No, it pours", action="outcome", outcome=leak),
        "unsure": AnswerFactory(step=drips, text="Not sure", action="end"),
    }
    return (script, {"where": where, "drips": drips}, answers,
            {"washer": washer, "leak": leak})
