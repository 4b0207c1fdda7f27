"""What SCIM provisioning keeps beside the accounts: its tokens, the documents Entra sent, and
the groups it pushed with their members."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class ScimToken(models.Model):
    """A bearer token Entra's provisioning service presents. Only its SHA-256 is stored: the
    token is 256 random bits, shown once by ``manage.py scim_token create NAME``."""

    name = models.CharField(max_length=100, unique=True)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "SCIM token"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ScimUserRecord(models.Model):
    """A Keyfax account as Entra's provisioning knows it: its SCIM ``id``, its ``externalId``
    and the User resource as Entra sent it (``id``, ``meta`` and passwords aside). The
    account's own fields are what Keyfax acts on; this keeps the rest, as sent.

    ``scim_id`` is the person's Entra object id when the account is linked to one (so an
    account made at a first sign-in has the same id before and after provisioning touches
    it), else a random UUID."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                primary_key=True, related_name="scim_record")
    scim_id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    external_id = models.CharField(max_length=255, blank=True, db_index=True)
    document = models.JSONField(default=dict)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "SCIM user document"

    def __str__(self) -> str:
        return str(self.document.get("userName", self.scim_id))


class ScimGroup(models.Model):
    """An Entra group pushed by provisioning: ``external_id`` is its object id, which is what
    group role mappings name."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    display_name = models.CharField(max_length=256)
    external_id = models.CharField(max_length=255, blank=True, db_index=True)
    document = models.JSONField(default=dict)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="ScimGroupMember",
                                     related_name="scim_groups")

    class Meta:
        verbose_name = "SCIM group"
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.display_name


class ScimGroupMember(models.Model):
    group = models.ForeignKey(ScimGroup, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    display = models.CharField(max_length=256, blank=True)  # as Entra sent it

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "user"],
                                               name="scim_group_member_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.group_id}"
