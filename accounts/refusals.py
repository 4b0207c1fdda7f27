"""Why a sign-in was refused: one typed reason, shown to the person and written to the audit log.

Every refusal in the sign-in flow raises :class:`SignInRefused` with a :class:`Reason`. The
reason's code is what the audit log and IT see; its title and advice are what the person sees.
Details attached to a refusal are for the audit log only and never carry tokens, codes or
secrets.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

_TRY_AGAIN = "Go back to the sign-in page and try again."
_TELL_IT = (
    "Please try again. If it happens again, contact your IT service desk and quote the "
    "reference below."
)
_UNTRUSTED = "Microsoft Entra ID's answer could not be trusted, so you have not been signed in."


class Reason(StrEnum):
    # The sign-in request itself
    SSO_NOT_CONFIGURED = "sso_not_configured"
    SIGN_IN_MISCONFIGURED = "sign_in_misconfigured"
    ENTRA_UNREACHABLE = "entra_unreachable"
    DISCOVERY_INVALID = "discovery_invalid"
    UNKNOWN_STATE = "unknown_state"
    STATE_EXPIRED = "state_expired"
    MISSING_CODE = "missing_code"
    # Entra said no
    NOT_ASSIGNED = "not_assigned"
    ENTRA_SIGN_IN_REQUIRED = "entra_sign_in_required"
    ENTRA_ACCOUNT_DISABLED = "entra_account_disabled"
    ACCESS_DENIED = "access_denied"
    ENTRA_ERROR = "entra_error"
    CODE_REJECTED = "code_rejected"
    # The ID token
    TOKEN_MISSING = "token_missing"
    TOKEN_MALFORMED = "token_malformed"
    TOKEN_ALGORITHM = "token_algorithm"
    TOKEN_KEY_HEADER = "token_key_header"
    TOKEN_KEY_UNKNOWN = "token_key_unknown"
    TOKEN_SIGNATURE = "token_signature"
    TOKEN_ISSUER = "token_issuer"
    TOKEN_AUDIENCE = "token_audience"
    TOKEN_TENANT = "token_tenant"
    TOKEN_VERSION = "token_version"
    TOKEN_EXPIRED = "token_expired"
    TOKEN_NOT_YET_VALID = "token_not_yet_valid"
    TOKEN_ISSUED_IN_FUTURE = "token_issued_in_future"
    TOKEN_CLAIM_MISSING = "token_claim_missing"
    TOKEN_CLAIM_INVALID = "token_claim_invalid"
    NONCE_MISMATCH = "nonce_mismatch"
    # The person
    ACCOUNT_DISABLED = "account_disabled"
    NOT_REGISTERED = "not_registered"
    NOT_THE_SAME_PERSON = "not_the_same_person"
    REVALIDATION_OVERDUE = "revalidation_overdue"
    NO_ACCESS_ROLE = "no_access_role"
    NO_PERMISSIONS = "no_permissions"
    STEP_UP_REQUIRED = "step_up_required"
    NO_IT_ACCESS = "no_it_access"
    GRAPH_UNAVAILABLE = "graph_unavailable"
    PERMISSIONS_SYNC_FAILED = "permissions_sync_failed"

    @property
    def title(self) -> str:
        return _TITLES.get(self, "We could not sign you in")

    @property
    def advice(self) -> str:
        return _ADVICE.get(self, _TELL_IT)

    @property
    def explanation(self) -> str:
        return _EXPLANATIONS.get(self, _UNTRUSTED)

    @property
    def http_status(self) -> int:
        if self in {Reason.ENTRA_UNREACHABLE, Reason.DISCOVERY_INVALID, Reason.GRAPH_UNAVAILABLE,
                    Reason.PERMISSIONS_SYNC_FAILED, Reason.SIGN_IN_MISCONFIGURED}:
            return 503
        if self is Reason.SSO_NOT_CONFIGURED:
            return 404
        return 403


_TITLES = {
    Reason.SSO_NOT_CONFIGURED: "Microsoft sign-in is not switched on",
    Reason.SIGN_IN_MISCONFIGURED: "Keyfax sign-in is not set up correctly",
    Reason.ENTRA_UNREACHABLE: "Microsoft Entra ID is not answering",
    Reason.DISCOVERY_INVALID: "Microsoft Entra ID is not set up correctly",
    Reason.UNKNOWN_STATE: "This sign-in link has expired or was already used",
    Reason.STATE_EXPIRED: "This sign-in took too long",
    Reason.MISSING_CODE: "The sign-in did not finish",
    Reason.NOT_ASSIGNED: "You do not have access to Keyfax",
    Reason.ENTRA_SIGN_IN_REQUIRED: "Microsoft needs you to sign in again",
    Reason.ENTRA_ACCOUNT_DISABLED: "Your Microsoft account is disabled",
    Reason.NOT_THE_SAME_PERSON: "Microsoft signed in someone else",
    Reason.REVALIDATION_OVERDUE: "Your sign-in could not be re-checked",
    Reason.ACCESS_DENIED: "The sign-in was cancelled",
    Reason.ENTRA_ERROR: "Microsoft Entra ID could not sign you in",
    Reason.CODE_REJECTED: "Microsoft Entra ID did not accept the sign-in",
    Reason.ACCOUNT_DISABLED: "Your Keyfax account is disabled",
    Reason.NOT_REGISTERED: "You are not registered to use Keyfax",
    Reason.NO_ACCESS_ROLE: "You do not have a Keyfax role",
    Reason.NO_PERMISSIONS: "You have no Keyfax permissions here",
    Reason.STEP_UP_REQUIRED: "This part of Keyfax needs a stronger sign-in",
    Reason.NO_IT_ACCESS: "Django admin is for IT",
    Reason.GRAPH_UNAVAILABLE: "Your groups could not be checked",
    Reason.PERMISSIONS_SYNC_FAILED: "Your Keyfax permissions could not be updated",
}

_EXPLANATIONS = {
    Reason.SSO_NOT_CONFIGURED: "Signing in with Microsoft is not enabled on this Keyfax site.",
    Reason.SIGN_IN_MISCONFIGURED: (
        "This Keyfax site's sign-in steps are configured wrongly, so nobody can be signed in "
        "until IT corrects them. Nothing was changed."
    ),
    Reason.ENTRA_UNREACHABLE: "Keyfax could not reach Microsoft Entra ID in time.",
    Reason.DISCOVERY_INVALID: "Keyfax could not read Microsoft Entra ID's configuration.",
    Reason.UNKNOWN_STATE: (
        "Keyfax did not start this sign-in in this browser, or it has already been completed."
    ),
    Reason.STATE_EXPIRED: "The sign-in was started too long ago.",
    Reason.MISSING_CODE: "Microsoft Entra ID sent you back without completing the sign-in.",
    Reason.NOT_ASSIGNED: (
        "Your Microsoft account is not assigned to the Keyfax application in Entra ID."
    ),
    Reason.ACCESS_DENIED: "The sign-in was cancelled or declined at Microsoft.",
    Reason.ENTRA_SIGN_IN_REQUIRED: (
        "Keyfax re-checks your sign-in with Microsoft regularly, and Microsoft no longer has "
        "you signed in (you signed out of Microsoft, your sign-in expired, or Microsoft needs "
        "you to confirm who you are)."
    ),
    Reason.ENTRA_ACCOUNT_DISABLED: "Your Microsoft account has been disabled in Entra ID.",
    Reason.NOT_THE_SAME_PERSON: (
        "Keyfax re-checked your sign-in, and Microsoft answered for a different person than "
        "the one signed in to Keyfax."
    ),
    Reason.REVALIDATION_OVERDUE: (
        "Keyfax re-checks your sign-in with Microsoft regularly, and could not reach Microsoft "
        "Entra ID for too long to keep you signed in."
    ),
    Reason.ENTRA_ERROR: "Microsoft Entra ID reported an error during the sign-in.",
    Reason.CODE_REJECTED: "Microsoft Entra ID refused to complete the sign-in.",
    Reason.ACCOUNT_DISABLED: "Your Keyfax account has been disabled by an administrator.",
    Reason.NOT_REGISTERED: (
        "Microsoft signed you in, but this Keyfax site only admits people a Keyfax "
        "administrator has registered, and your Microsoft account is not registered yet."
    ),
    Reason.NO_ACCESS_ROLE: (
        "Your Microsoft account signed in, but it holds no app role that admits you to this "
        "part of Keyfax."
    ),
    Reason.NO_PERMISSIONS: (
        "Your Microsoft Entra ID app roles and groups give you no Keyfax permissions for "
        "this part of Keyfax, so you have not been signed in."
    ),
    Reason.STEP_UP_REQUIRED: (
        "This part of Keyfax requires multi-factor authentication (a Conditional Access "
        "authentication context), and your sign-in did not include it."
    ),
    Reason.NO_IT_ACCESS: (
        "You signed in with Microsoft to open Django admin, but your account does not have "
        "IT access, so you have not been signed in."
    ),
    Reason.GRAPH_UNAVAILABLE: (
        "You belong to many groups, so Keyfax must ask Microsoft Graph for them, and Graph "
        "did not answer. You have not been signed in and nothing was changed."
    ),
    Reason.PERMISSIONS_SYNC_FAILED: (
        "Keyfax could not apply your Microsoft Entra ID roles to your permissions. You have "
        "not been signed in and your permissions were left as they were."
    ),
}

_ADVICE = {
    Reason.SSO_NOT_CONFIGURED: "Use the sign-in page, or ask IT which sign-in this site uses.",
    Reason.ENTRA_UNREACHABLE: "Wait a minute and try again. If it persists, contact IT.",
    Reason.UNKNOWN_STATE: _TRY_AGAIN,
    Reason.STATE_EXPIRED: _TRY_AGAIN,
    Reason.MISSING_CODE: _TRY_AGAIN,
    Reason.NOT_ASSIGNED: (
        "Ask your IT service desk to assign you a Keyfax role in Microsoft Entra ID."
    ),
    Reason.ACCESS_DENIED: _TRY_AGAIN,
    Reason.ENTRA_SIGN_IN_REQUIRED: "Sign in again.",
    Reason.ENTRA_ACCOUNT_DISABLED: "Contact your IT service desk.",
    Reason.NOT_THE_SAME_PERSON: "Sign in again, as yourself.",
    Reason.REVALIDATION_OVERDUE: "Sign in again in a few minutes. If it persists, contact IT.",
    Reason.CODE_REJECTED: _TRY_AGAIN,
    Reason.ACCOUNT_DISABLED: "Contact your Keyfax administrator.",
    Reason.NOT_REGISTERED: (
        "Ask your Keyfax administrator to register you in User Maintenance (they find you in "
        "the Microsoft directory), then sign in again."
    ),
    Reason.NO_ACCESS_ROLE: (
        "Ask your IT service desk to assign you a Keyfax app role in Microsoft Entra ID."
    ),
    Reason.NO_PERMISSIONS: (
        "Ask your IT service desk to assign you the Keyfax app role for your job in "
        "Microsoft Entra ID, then sign in again."
    ),
    Reason.STEP_UP_REQUIRED: (
        "Sign in again and complete the extra verification Microsoft asks for. If you are not "
        "asked for one, contact your IT service desk and quote the reference below."
    ),
    Reason.GRAPH_UNAVAILABLE: "Wait a minute and try again. If it persists, contact IT.",
    Reason.NO_IT_ACCESS: (
        "Django admin needs the Keyfax.IT app role in Microsoft Entra ID. For the "
        "Administration Tool or Web Staff, start from the Keyfax home page instead."
    ),
}


class SignInRefused(Exception):
    """A sign-in step said no. ``detail`` goes to the audit log, never to the page."""

    def __init__(self, reason: Reason, detail: dict[str, Any] | None = None) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.detail = detail or {}
