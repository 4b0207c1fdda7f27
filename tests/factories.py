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
