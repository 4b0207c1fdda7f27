"""People: the Keyfax user and the Entra identity linked to it."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import F
from django.db.models.functions import Upper


class LoginMode(models.TextChoices):
    """How a person signs in (User Maintenance). Entra-linked users are always ``sso``.

    ``sso`` for a local user means "no Keyfax password": the password is made unusable and
    the account waits for IT to link an Entra identity (never matched by email or UPN).
    """

    PASSWORD = "password", "Keyfax password"
    SSO = "sso", "Keyfax SSO (Microsoft Entra ID)"


class KeyfaxUserManager(UserManager):
    """Django's, with the accounts it creates (``createsuperuser``, ``create_user``) saved
    through the account door (``accounts.services``), on the record."""

    def _create_user(self, username, email, password, **extra_fields):
        from accounts import services  # the door imports these models: import it when used

        user = self._create_user_object(username, email, password, **extra_fields)
        return services.save_new_user(user, services.Actor(via="management_command"))


class User(AbstractUser):
    """A Keyfax user. Entra-linked users have an :class:`EntraIdentity` and no password."""

    objects = KeyfaxUserManager()

    user_group = models.CharField(
        "User Group", max_length=100, blank=True,
        help_text="Free text that diagnostic scripts can read.",
    )
    login_mode = models.CharField(
        "login mode", max_length=10, choices=LoginMode.choices, default=LoginMode.PASSWORD,
        help_text="Keyfax password, or Keyfax SSO through Microsoft Entra ID.",
    )
    notes = models.TextField(
        blank=True, max_length=2000,
        help_text="Kept in Keyfax only: never sent to or read from Entra ID.",
    )
    provisioned_at = models.DateTimeField(
        null=True, blank=True, help_text="When Entra ID's provisioning (SCIM) created the account.")
    scim_changed_at = models.DateTimeField(
        null=True, blank=True, help_text="The last change SCIM provisioning made.")
    retired_at = models.DateTimeField(
        null=True, blank=True,
        help_text="When SCIM deleted the person: access removed, the account kept for the record.")

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        indexes = [
            # User Maintenance: case-insensitive username checks, sorts and filters.
            # Each sort's columns end with the id, the list's tie-break, so a page (even a
            # deep one) is read in index order instead of sorting every user.
            models.Index(Upper("username"), F("id"), name="user_username_upper_idx"),
            models.Index(fields=["last_name", "first_name", "id"], name="user_name_idx"),
            models.Index(fields=["user_group", "username", "id"], name="user_group_idx"),
            models.Index(fields=["date_joined", "id"], name="user_joined_idx"),
        ]

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class EntraIdentityManager(models.Manager):
    def get_by_natural_key(self, tenant_id: str, object_id: str) -> EntraIdentity:
        return self.get(tenant_id=tenant_id, object_id=object_id)


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
    first_sign_in_at = models.DateTimeField(
        auto_now_add=True, help_text="When Keyfax first knew the person: first sign-in or SCIM.")
    last_sign_in_at = models.DateTimeField(null=True, blank=True)

    objects = EntraIdentityManager()

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

    def save(self, *args, **kwargs) -> None:
        """Linking a person makes their login mode ``sso`` (one UPDATE, when first saved)."""
        adding = self._state.adding
        super().save(*args, **kwargs)
        if adding:
            User.objects.filter(pk=self.user_id).exclude(login_mode=LoginMode.SSO).update(
                login_mode=LoginMode.SSO
            )
            if "user" in self._state.fields_cache:
                self.user.login_mode = LoginMode.SSO

    def natural_key(self) -> tuple[str, str]:
        """(tenant id, object id): lets fixtures (demo people) load twice without clashing."""
        return (str(self.tenant_id), str(self.object_id))


class SignedInSession(models.Model):
    """A Keyfax session someone signed in to, by its key (``accounts.open_sessions``).

    Its account's sessions can then be ended at once, on every worker and host (a leaver,
    a disabled account), and Entra's front-channel logout finds the sessions of a ``sid``.
    An ended session keeps its row (``ended_at``) until the browser comes back and is told
    why; a sign-out removes it.
    """

    session_key = models.CharField(max_length=40, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="signed_in_sessions")
    method = models.CharField(max_length=10, default="entra")  # "entra" or "password"
    sid = models.CharField(max_length=100, blank=True, db_index=True)
    element = models.CharField(max_length=20, blank=True)  # what the sign-in was for
    address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=40, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "ended_at", "expires_at"],
                                name="signed_in_session_open_idx")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.session_key[:8]}… ({self.method})"
