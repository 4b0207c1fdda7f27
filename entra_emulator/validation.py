"""Checks on authorization requests: client, redirect URI, response type, scope, PKCE, claims."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from .keys import b64url

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost"})
CALLBACK_SUFFIX = "/oidc/callback/"
CODE_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # base64url of a SHA-256 digest
CODE_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")  # RFC 7636 section 4.1
ACR_VALUE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
PROMPTS = frozenset({"login", "none", "consent", "select_account", "create"})


class PageError(Exception):
    """A problem Entra shows on its own error page (no redirect back to the app)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"AADSTS{code}: {message}")
        self.code = code
        self.message = message


class RedirectError(Exception):
    """A problem Entra reports by redirecting back to the app with ``error=...``."""

    def __init__(self, error: str, code: int, message: str) -> None:
        super().__init__(f"{error}: AADSTS{code}: {message}")
        self.error = error
        self.code = code
        self.message = message


@dataclass(frozen=True)
class AuthorizeRequest:
    """A checked authorization request."""

    client_id: str
    redirect_uri: str
    scope: str
    state: str | None
    nonce: str | None
    code_challenge: str
    prompt: str | None
    acrs: tuple[str, ...]


def is_loopback_http(uri: str) -> bool:
    """An ``http`` URL on 127.0.0.1 or localhost (any port), without credentials or fragment."""
    if not uri or any(not ("!" <= ch <= "~") for ch in uri) or "\\" in uri:
        return False
    try:
        parts = urlsplit(uri)
        _ = parts.port  # raises ValueError for a bad port
    except ValueError:
        return False
    return (
        uri[:7].lower() == "http://"
        and parts.hostname in LOOPBACK_HOSTS
        and parts.username is None
        and parts.password is None
        and not parts.fragment
    )


def is_allowed_redirect_uri(uri: str, extra: frozenset[str]) -> bool:
    """A loopback ``.../oidc/callback/`` URL (no query), or one of the extra registered URIs."""
    if uri in extra:
        return True
    if not is_loopback_http(uri):
        return False
    parts = urlsplit(uri)
    return parts.path.endswith(CALLBACK_SUFFIX) and not parts.query


def s256(verifier: str) -> str:
    """The PKCE S256 transform of a code verifier."""
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def parse_acrs(raw: str | None) -> tuple[str, ...]:
    """Authentication-context ids asked for in ``claims`` (``id_token.acrs.value(s)``).

    Raises ValueError with a short reason when the parameter is malformed.
    """
    if raw is None or not raw.strip():
        return ()
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ValueError("it is not valid JSON") from exc
    if not isinstance(data, dict):
        raise ValueError("it must be a JSON object")
    id_token = data.get("id_token")
    if id_token is None:
        return ()
    if not isinstance(id_token, dict):
        raise ValueError("'id_token' must be an object")
    acrs = id_token.get("acrs")
    if acrs is None:
        return ()
    if not isinstance(acrs, dict):
        raise ValueError("'id_token.acrs' must be an object")
    values: list[object] = []
    if "value" in acrs:
        values.append(acrs["value"])
    if "values" in acrs:
        if not isinstance(acrs["values"], list):
            raise ValueError("'id_token.acrs.values' must be a list")
        values.extend(acrs["values"])
    for value in values:
        if not isinstance(value, str) or not ACR_VALUE.match(value):
            raise ValueError("authentication context ids must be short strings such as 'c1'")
    return tuple(dict.fromkeys(str(v) for v in values))


def check_client_and_redirect(
    params: dict[str, str],
    duplicate: str | None,
    client_id: str,
    tenant_id: str,
    extra_redirect_uris: frozenset[str],
) -> None:
    """The checks whose failure Entra shows on its own page, never redirecting."""
    if duplicate:
        raise PageError(90100, f"The '{duplicate}' parameter is given more than once.")
    given = params.get("client_id", "").strip()
    if not given:
        raise PageError(
            900144, "The request body must contain the following parameter: 'client_id'."
        )
    if given.lower() != client_id.lower():
        raise PageError(
            700016,
            f"Application with identifier '{given}' was not found in the directory "
            f"'{tenant_id}'. This can happen if the application has not been installed by the "
            "administrator of the tenant or consented to by any user in the tenant. You may "
            "have sent your authentication request to the wrong tenant.",
        )
    redirect_uri = params.get("redirect_uri", "")
    if not is_allowed_redirect_uri(redirect_uri, extra_redirect_uris):
        raise PageError(
            50011,
            f"The redirect URI '{redirect_uri}' specified in the request does not match the "
            f"redirect URIs configured for the application '{client_id}'. Make sure the "
            "redirect URI sent in the request matches one added to your application in the "
            "Azure portal. (The emulator accepts http://127.0.0.1 or http://localhost URLs, "
            f"any port, whose path ends with '{CALLBACK_SUFFIX}'.)",
        )


def check_request(params: dict[str, str], client_id: str) -> AuthorizeRequest:
    """The remaining checks; failures are reported to the app by redirect."""
    response_type = params.get("response_type", "")
    if not response_type:
        raise RedirectError("invalid_request", 900144, _missing("response_type"))
    if response_type != "code":
        raise RedirectError(
            "unsupported_response_type",
            700054,
            f"response_type '{response_type}' is not enabled for the application: "
            "the development emulator supports only 'code'.",
        )
    if params.get("response_mode", "query") != "query":
        raise RedirectError(
            "invalid_request",
            90100,
            "The development emulator supports only response_mode 'query'.",
        )
    scope = params.get("scope", "")
    if not scope.strip():
        raise RedirectError("invalid_request", 900144, _missing("scope"))
    if "openid" not in scope.split():
        raise RedirectError(
            "invalid_scope",
            70011,
            f"The provided value for the input parameter 'scope' is not valid. The scope "
            f"'{scope}' does not include 'openid'.",
        )
    challenge = _check_pkce(params)
    prompt = params.get("prompt") or None
    if prompt is not None and prompt not in PROMPTS:
        raise RedirectError("invalid_request", 90100, f"Invalid prompt value '{prompt}'.")
    try:
        acrs = parse_acrs(params.get("claims"))
    except ValueError as exc:
        raise RedirectError(
            "invalid_request", 90100, f"The 'claims' parameter is not valid: {exc}."
        ) from exc
    return AuthorizeRequest(
        client_id=client_id,
        redirect_uri=params["redirect_uri"],
        scope=" ".join(scope.split()),
        state=params.get("state") or None,
        nonce=params.get("nonce") or None,
        code_challenge=challenge,
        prompt=prompt,
        acrs=acrs,
    )


def _check_pkce(params: dict[str, str]) -> str:
    challenge = params.get("code_challenge", "")
    if not challenge:
        raise RedirectError(
            "invalid_request",
            50148,
            "Proof Key for Code Exchange (PKCE) is required: the request must contain "
            "'code_challenge' with code_challenge_method 'S256'.",
        )
    method = params.get("code_challenge_method") or "plain"
    if method != "S256":
        raise RedirectError(
            "invalid_request",
            50148,
            f"PKCE code_challenge_method '{method}' is refused (an absent method means "
            "'plain'): the emulator requires 'S256'.",
        )
    if not CODE_CHALLENGE.match(challenge):
        raise RedirectError("invalid_request", 501491, "Invalid size of Code_Challenge parameter.")
    return challenge


def _missing(name: str) -> str:
    return f"The request body must contain the following parameter: '{name}'."
