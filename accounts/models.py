"""People: the Keyfax user and the Entra identity linked to it."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A Keyfax user. Entra-linked users have an :class:`EntraIdentity` and no password."""

    user_group = models.CharField(
        "User Group", max_length=100, blank=True,
        help_text="Free text that diagnostic scripts can read.",
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class EntraIdentity(models.Model):
    """The person in Entra ID: (tenant id, object id) is the only thing ever matched on.

    UPN, email and name are copied for display at each sign-in and never used to find or
    link an account (nOAuth).
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="entra_identity")
    tenant_id = models.UUIDField()
    object_id = models.UUIDField()
    upn = models.CharField("user principal name", max_length=255, blank=True)
    email = models.CharField(max_length=255, blank=True)
    display_name = models.CharField(max_length=255, blank=True)
    roles = models.JSONField(default=list, blank=True, help_text="App roles at the last sign-in.")
    groups = models.JSONField(default=list, blank=True, help_text="Groups at the last sign-in.")
    first_sign_in_at = models.DateTimeField(auto_now_add=True)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "Entra identity"
        verbose_name_plural = "Entra identities"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant_id", "object_id"], name="entra_identity_unique_person"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.upn or self.object_id} ({self.tenant_id})"
