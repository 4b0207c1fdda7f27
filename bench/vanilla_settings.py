"""mozilla-django-oidc out of the box (the baseline for bench/sign_in.py).

Static endpoints, its own backend and views: it fetches the JWKS and calls userinfo on
every sign-in. PKCE is on because the emulator, like a careful tenant, requires it.
"""

from keyfax_site.settings import *  # noqa: F403
from keyfax_site.settings import (
    ENTRA_AUTHORITY,
    ENTRA_CLIENT_ID,
    ENTRA_CLIENT_SECRET,
    ENTRA_TENANT_ID,
)

ROOT_URLCONF = "bench.vanilla_urls"
AUTHENTICATION_BACKENDS = ["mozilla_django_oidc.auth.OIDCAuthenticationBackend"]
OIDC_AUTHENTICATE_CLASS = "mozilla_django_oidc.views.OIDCAuthenticationRequestView"
OIDC_CALLBACK_CLASS = "mozilla_django_oidc.views.OIDCAuthenticationCallbackView"
OIDC_RP_CLIENT_ID = ENTRA_CLIENT_ID
OIDC_RP_CLIENT_SECRET = ENTRA_CLIENT_SECRET
_TENANT = f"{ENTRA_AUTHORITY}/{ENTRA_TENANT_ID}"
OIDC_OP_AUTHORIZATION_ENDPOINT = f"{_TENANT}/oauth2/v2.0/authorize"
OIDC_OP_TOKEN_ENDPOINT = f"{_TENANT}/oauth2/v2.0/token"
OIDC_OP_JWKS_ENDPOINT = f"{_TENANT}/discovery/v2.0/keys"
OIDC_OP_USER_ENDPOINT = f"{ENTRA_AUTHORITY}/oidc/userinfo"
OIDC_RP_SCOPES = "openid email"
LOGIN_REDIRECT_URL = "/signed-in"
LOGIN_REDIRECT_URL_FAILURE = "/failed"
