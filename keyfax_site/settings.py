"""Django settings for Keyfax SSO.

Every value comes from the environment (``.env`` is read when present) through
django-environ; the variables are documented in ``.env.example`` and DESIGN.md.
The SSO settings are kept raw here and interpreted, once per use, by
``accounts.sso_config`` so that ``manage.py check`` can report each mistake.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_bool(name: str, default: bool) -> bool:
    """A strict boolean: a typo is an error, not a silent ``False``."""
    raw = env.str(name, default="").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {raw!r}")


DEBUG = env_bool("DEBUG", True)

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
else:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    if len(SECRET_KEY) < 32:
        raise ImproperlyConfigured("SECRET_KEY must be set (32+ characters) when DEBUG is off")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])

INSTALLED_APPS = [
    "keyfax_site.apps.KeyfaxAdminConfig",  # django.contrib.admin with IT's admin site
    "accounts",  # before auth: its changepassword (through the account door) wins
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "guardian",
    "audit",
    "permissions",
    "scripts",
    "admin_tools",
    "staff_portal",
    "scim",  # /scim/v2/: Entra's provisioning service (docs/scim.md)
]
if DEBUG:
    # `manage.py entra_emulator`, the development Entra ID that `make run` signs in against.
    # Production (DEBUG off) never installs it.
    INSTALLED_APPS.append("entra_emulator")

MIDDLEWARE = [
    "keyfax_site.middleware.ClientAddressMiddleware",  # first: REMOTE_ADDR is the client
    "keyfax_site.middleware.RequestIdMiddleware",
    "audit.startup.SettingsSeenMiddleware",  # one settings_seen audit event per process
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.SignedInSessionMiddleware",  # last seen; an ended session is told
    "accounts.revalidation.RevalidationMiddleware",  # Entra re-checks the session regularly
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "keyfax_site.urls"
WSGI_APPLICATION = "keyfax_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "keyfax_site" / "templates"],  # site-wide; wins over the apps'
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers and a writer work at once; NORMAL syncs at checkpoints, not per commit.
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    })
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://keyfax")}

AUTH_USER_MODEL = "accounts.User"
ANONYMOUS_USER_NAME = None  # django-guardian: no anonymous user row; we grant nothing anonymously
AUTHENTICATION_BACKENDS = [
    "accounts.backends.EntraOIDCBackend",
    "accounts.backends.LocalPasswordBackend",
    "guardian.backends.ObjectPermissionBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "accounts:signed-out"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "keyfax_site" / "static"]
FIXTURE_DIRS = [BASE_DIR / "fixtures"]

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"  # the OIDC callback is a top-level GET redirect from Entra
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 60 * 60)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)

# A deliberate exception to a system check, e.g. the benchmarks run the emulator with DEBUG off.
SILENCED_SYSTEM_CHECKS = env.list("SILENCED_SYSTEM_CHECKS", default=[])

# --- Microsoft Entra ID (raw values; see accounts.sso_config) ------------------------------
ENTRA_AUTHORITY = env.str("ENTRA_AUTHORITY", default="https://login.microsoftonline.com")
ENTRA_TENANT_ID = env.str("ENTRA_TENANT_ID", default="")
ENTRA_CLIENT_ID = env.str("ENTRA_CLIENT_ID", default="")
ENTRA_CLIENT_SECRET = env.str("ENTRA_CLIENT_SECRET", default="")
ENTRA_GRAPH_URL = env.str("ENTRA_GRAPH_URL", default="https://graph.microsoft.com")
ENTRA_HTTP_TIMEOUT = env.float("ENTRA_HTTP_TIMEOUT", default=5.0)

_DEFAULT_MODE = "authentication" if ENTRA_TENANT_ID else "off"
KEYFAX_SSO_ADMIN_TOOL = env.str("KEYFAX_SSO_ADMIN_TOOL", default=_DEFAULT_MODE)
KEYFAX_SSO_WEB_STAFF = env.str("KEYFAX_SSO_WEB_STAFF", default=_DEFAULT_MODE)
KEYFAX_SSO_ACCESS_ROLES = env.list("KEYFAX_SSO_ACCESS_ROLES", default=[])
KEYFAX_WEB_STAFF_PUBLIC = env_bool("KEYFAX_WEB_STAFF_PUBLIC", True)
_SSO_ON = any(mode != "off" for mode in (KEYFAX_SSO_ADMIN_TOOL, KEYFAX_SSO_WEB_STAFF))
KEYFAX_LOCAL_LOGIN = env_bool("KEYFAX_LOCAL_LOGIN", not _SSO_ON)
KEYFAX_REQUIRE_MFA = env.list("KEYFAX_REQUIRE_MFA", default=[])
KEYFAX_MFA_AUTH_CONTEXT = env.str("KEYFAX_MFA_AUTH_CONTEXT", default="c1")
# on_sign_in, registered, or per element admin_tool=registered,web_staff=on_sign_in (E013)
KEYFAX_SSO_PROVISIONING = env.str("KEYFAX_SSO_PROVISIONING", default="on_sign_in")
# An Entra session is silently re-checked (prompt=none) this often; if Entra cannot be reached,
# it keeps working this much longer (accounts/revalidation.py, docs/sessions.md).
KEYFAX_REVALIDATE_SECONDS = env.int("KEYFAX_REVALIDATE_SECONDS", default=900)
KEYFAX_REVALIDATE_GRACE_SECONDS = env.int("KEYFAX_REVALIDATE_GRACE_SECONDS", default=3600)

# Password sign-in throttle: per (username, client address) and per client address.
KEYFAX_LOGIN_ATTEMPTS = env.int("KEYFAX_LOGIN_ATTEMPTS", default=5)
KEYFAX_LOGIN_LOCKOUT_SECONDS = env.int("KEYFAX_LOGIN_LOCKOUT_SECONDS", default=15 * 60)
# Reverse proxies whose X-Forwarded-For and X-Request-ID are believed: addresses and/or CIDR
# networks (keyfax_site.middleware.ClientAddressMiddleware; a bad entry is keyfax.E012).
KEYFAX_TRUSTED_PROXIES = env.list("KEYFAX_TRUSTED_PROXIES", default=[])

# The whole sign-in callback, in order: every check and write is one of these steps (see
# accounts/pipeline.py for how they are declared and checked, and docs/sign-in.md).
KEYFAX_SIGN_IN_PIPELINE = [
    "accounts.steps.require_sso_enabled",  # SSO is (still) on and configured
    "accounts.steps.check_state",  # this browser's state, once, within 10 min; Entra's error
    "accounts.steps.exchange_code",  # the code and the PKCE verifier at the token endpoint
    "accounts.steps.verify_id_token",  # signature, alg, iss, aud, tid, lifetime, nonce
    "accounts.steps.resolve_groups_overage",  # groups from Microsoft Graph over 200 groups
    "accounts.steps.find_person",  # by (tid, oid) only
    "accounts.steps.require_same_person",  # a re-check comes back with the same person
    "accounts.steps.require_registration",  # KEYFAX_SSO_PROVISIONING=registered: no strangers
    "accounts.steps.require_active_user",  # a disabled account stays out
    "permissions.pipeline.decide_access",  # roles, mappings, step-up: admitted elements
    "accounts.steps.provision_or_update_user",  # --- writes from here, in one transaction
    "permissions.pipeline.sync_permissions",  # Entra-managed elements get what roles map to
    "accounts.steps.log_in",  # a new session, with the elements it admits and Entra's sid
    "accounts.steps.record_sign_in",  # the sign_in audit event
]

# --- mozilla-django-oidc ------------------------------------------------------------------
# The client id and secret come from ENTRA_CLIENT_ID/SECRET and the endpoints from the
# tenant's discovery document (accounts.backends.EntraSettings); these mean what its
# documentation says. keyfax.E009 refuses anything but RS256, E011 PKCE or nonce off.
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_RP_SCOPES = "openid profile email"
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
OIDC_PKCE_CODE_VERIFIER_SIZE = 64
OIDC_STATE_SIZE = 32
OIDC_NONCE_SIZE = 32
OIDC_MAX_STATES = 10
OIDC_STORE_ID_TOKEN = False
OIDC_STORE_ACCESS_TOKEN = False
OIDC_REDIRECT_REQUIRE_HTTPS = not DEBUG

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json_line": {"format": "%(message)s"},  # keyfax.audit: one JSON object per line
    },
    "filters": {"redact_secrets": {"()": "keyfax_site.log_filters.RedactSecrets"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_secrets"],
        },
        "audit_json": {
            "class": "logging.StreamHandler",
            "formatter": "json_line",
            "filters": ["redact_secrets"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "keyfax.audit": {"level": "INFO", "handlers": ["audit_json"], "propagate": False},
    },
}
