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
        model = "admin_tools.ScriptSet"
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
