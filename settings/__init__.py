"""Mana's settings, read from the environment.

Two modes:

* development (the default, ``MANA_ENV`` unset): SQLite and the in-memory channel layer in one
  process, DEBUG on, a fixed development secret, GraphiQL served;
* production (``MANA_ENV=production``): refuses to start with DEBUG on or without a real
  ``SECRET_KEY``, and turns on every HTTPS protection ``manage.py check --deploy`` asks for.

``DATABASE_URL`` switches to PostgreSQL (psycopg 3); ``REDIS_URL`` switches the channel layer to
Redis so that several ASGI workers share subscriptions.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from corsheaders.defaults import default_headers as corsheaders_default_headers
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("MANA_VAR_DIR", BASE_DIR / "var"))

DEVELOPMENT_SECRET_KEY = "mana-development-only-secret-key-do-not-use-in-production"


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {raw!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


MANA_ENV = os.environ.get("MANA_ENV", "development").strip().lower()
if MANA_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(f"MANA_ENV must be 'development' or 'production', not {MANA_ENV!r}")
PRODUCTION = MANA_ENV == "production"

DEBUG = env_bool("DEBUG", default=not PRODUCTION)
SECRET_KEY = os.environ.get("SECRET_KEY", "" if PRODUCTION else DEVELOPMENT_SECRET_KEY)

if PRODUCTION:
    # A production process that starts with DEBUG on leaks stack traces and settings; one with a
    # guessable secret lets anyone forge sessions. Neither may start.
    if DEBUG:
        raise ImproperlyConfigured("MANA_ENV=production refuses DEBUG=1.")
    if not SECRET_KEY or SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "MANA_ENV=production needs SECRET_KEY: at least 50 random characters, not the development key."
        )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Where clients reach Mana («https://mana.example.ir»): the base of every address the API answers
# (evidence downloads, captcha images; schema/public_urls.py). Unset, each address is built from
# the request's own host and scheme (honouring SECURE_PROXY_SSL_HEADER and USE_X_FORWARDED_HOST).
MANA_PUBLIC_URL = os.environ.get("MANA_PUBLIC_URL", "").strip().removesuffix("/")
if MANA_PUBLIC_URL and not re.fullmatch(r"https?://[^/?#\s]+", MANA_PUBLIC_URL):
    raise ImproperlyConfigured(
        f"MANA_PUBLIC_URL must be a scheme and host such as https://mana.example.ir, not {MANA_PUBLIC_URL!r}"
    )

INSTALLED_APPS = [
    # Mana first: its management commands (export_schema) win over same-named ones of libraries.
    "models.apps.ManaConfig",
    "daphne",
    # django.contrib.admin, whose libraries' pages Mana makes Persian once they are registered.
    "models.apps.ManaAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "mptt",
    "guardian",
    "simple_history",
    "channels",
    "strawberry_django",
    # Counts failed sign-ins and locks out password guessing (models/login_lockout.py).
    "axes",
    # Captcha images and their answers (models/captcha.py).
    "captcha",
    # Background tasks (sending SMS). The database queue's app is installed whichever backend
    # TASKS names, so switching to it (MANA_TASKS_BACKEND=database) needs no other change.
    "django_tasks",
    "django_tasks_db",
    # One-row settings in the admin console: support contacts, reminder days (models/site_settings.py).
    "solo",
    # SMS outbox and gateways, civil registry and Shahkar adapters (integrations/).
    "integrations.apps.IntegrationsConfig",
    # Throttles counted in the shared cache (API requests per token: schema/bearer.py); installed
    # for its system check, which refuses a cache that worker processes do not share.
    "django_ratelimit",
    # CORS headers for web clients on the origins MANA_CORS_ALLOWED_ORIGINS lists (below).
    "corsheaders",
]

MIDDLEWARE = [
    # /healthz, /readyz and the metrics, before the host check and the HTTPS redirect (probes
    # come to a worker's own address over plain HTTP): settings/operations.py.
    "settings.operations.OperationsMiddleware",
    # A request id, and one log line and the HTTP metrics per request.
    "settings.request_log.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # gzip for text worth it, unless another site could have sent the request with the cookie.
    "settings.compression.CompressionMiddleware",
    # Before anything that answers by itself: a preflight is answered here.
    "corsheaders.middleware.CorsMiddleware",
    # Serves the admin console's static files from any ASGI worker, no separate web server.
    "settings.static_files.StaticFilesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # The admin console's pages in one digit style: Persian digits in their text (models/persian_digits.py).
    "models.persian_digits.PersianDigitsMiddleware",
    # Last, as axes asks: turns a locked-out admin sign-in into the Persian lockout page (the
    # GraphQL login answers its lockout itself, with LOGIN_LOCKED_OUT).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "settings.urls"
ASGI_APPLICATION = "settings.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # GraphiQL's page (strawberry renders graphql/graphiql.html when a project has one).
        "DIRS": [BASE_DIR / "schema" / "graphiql" / "templates"],
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

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'mana.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    options = DATABASES["default"].setdefault("OPTIONS", {})
    # Under ASGI every request's ORM work runs in a fresh worker thread, so a persistent
    # connection (CONN_MAX_AGE) is one more open connection per thread, and no persistence means a
    # new connection (≈ a forked backend) per request. A pool shared by the threads does neither.
    if env_bool("DATABASE_POOL", True):
        if DATABASES["default"]["CONN_MAX_AGE"]:
            raise ImproperlyConfigured("DATABASE_POOL and DATABASE_CONN_MAX_AGE exclude each other.")
        options["pool"] = {
            "min_size": int(os.environ.get("DATABASE_POOL_MIN_SIZE", "2")),
            # A request holds its connection until it ends; size the pool for the requests a
            # worker serves at once (PostgreSQL's max_connections bounds all workers together).
            "max_size": int(os.environ.get("DATABASE_POOL_MAX_SIZE", "32")),
            "timeout": float(os.environ.get("DATABASE_POOL_TIMEOUT", "30")),
        }
    # jit=off: Mana's statements are short index lookups, and JIT compilation, which PostgreSQL
    # switches on by estimated cost, only ever added hundreds of milliseconds to them.
    # statement_timeout: a runaway statement is cancelled (answered STATEMENT_TIMEOUT) instead of
    # holding a worker and a connection indefinitely.
    statement_timeout_ms = int(float(os.environ.get("DATABASE_STATEMENT_TIMEOUT", "30")) * 1000)
    options.setdefault("options", f"-c jit=off -c statement_timeout={statement_timeout_ms}")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # One writer at a time is SQLite's rule; wait for the lock instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    # A transaction that read first and then writes cannot wait for the lock: SQLite refuses it at
    # once ("database is locked"), whatever the timeout — bench/live_updates.py saw 1 referral in
    # 100 refused at 10 a second. Taking the write lock when the transaction begins makes every
    # writer wait its turn instead.
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"

REDIS_URL = os.environ.get("REDIS_URL", "").strip()
# Every Redis key Mana writes (channel layer, cache) starts with it: deployments, or parallel test
# runs, sharing one Redis server do not see each other's keys.
REDIS_PREFIX = os.environ.get("REDIS_PREFIX", "mana")
# channels-redis blocks 5 s per wait (RedisChannelLayer.brpop_timeout): three times that.
REDIS_CHANNEL_READ_TIMEOUT = 15
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py 8 gives every connection a 5 s read timeout; channels-redis waits for a
                # socket's next message with a blocking BZPOPMIN of 5 s too, so an idle socket's
                # read timed out, the consumer crashed and the socket closed with 1011
                # (bench/live_updates.py found it; tests/test_live_clients.py keeps a socket idle
                # past it). Reads may take the blocking wait and then some.
                "hosts": [{"address": REDIS_URL, "socket_timeout": REDIS_CHANNEL_READ_TIMEOUT}],
                "prefix": REDIS_PREFIX,
            },
        }
    }
    # The shared cache: throttle counters (django-ratelimit) must be the same for every worker.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_PREFIX,
        }
    }
    # django-ratelimit lists only django-redis as supported (W001); Django's own RedisCache
    # increments atomically too (INCRBY), which is all its counters need.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # Without REDIS_URL Mana runs as one process (the in-memory channel layer already requires
    # it), and one process's memory counts right. django-ratelimit refuses local memory (E003)
    # because several workers would each count alone: several workers need REDIS_URL anyway.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

AUTH_USER_MODEL = "mana.User"
AUTHENTICATION_BACKENDS = [
    # First (axes' AxesStandaloneBackend, counting each attempt before its password is checked):
    # refuses a locked-out attempt before ModelBackend spends a password hash on it.
    "models.login_lockout.LoginLockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
    # authenticate(national_code=…, one_time_password=…): a one-time SMS code (models/one_time_codes.py).
    "models.one_time_codes.OneTimeCodeBackend",
    "guardian.backends.ObjectPermissionBackend",
    # Sina sign-in of main leaders (integrations/sina.py): only its callback view authenticates
    # through it; listed so that a Sina session finds its user on later requests.
    "integrations.sina.SinaBackend",
]
# Mana has no anonymous browsing: guardian must not create an anonymous user row.
ANONYMOUS_USER_NAME = None


def env_positive_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip() or str(default)
    if not raw.isdigit() or int(raw) < 1:
        raise ImproperlyConfigured(f"{name} must be a whole number of at least 1, not {raw!r}")
    return int(raw)


# Password guessing (django-axes, models/login_lockout.py): every password tried through the
# GraphQL login or the admin console's login is counted, per national code (the account) and per
# client address, over a sliding window of MANA_LOGIN_COOLOFF_MINUTES (15). An account is locked
# after MANA_LOGIN_FAILURE_LIMIT (5) failures from anywhere — guessing one account from many
# addresses; an address after MANA_LOGIN_ADDRESS_FAILURE_LIMIT (30) failures over all accounts —
# spraying many accounts from one address; higher because many people share an office's NAT
# address. A locked-out attempt is refused without a password hash (LOGIN_LOCKED_OUT; in the admin
# a Persian 429 page) and not counted again, so the wait announced is the wait that holds. A
# success clears that account's failures from that address. The address is REMOTE_ADDR: behind a
# reverse proxy run daphne with --proxy-headers (and let the proxy overwrite X-Forwarded-For), or
# every client shares the proxy's address. Unlock early: manage.py axes_reset_username <code>,
# axes_reset_ip <address>, axes_reset (everything).
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = env_positive_int("MANA_LOGIN_FAILURE_LIMIT", 5)
LOGIN_ADDRESS_FAILURE_LIMIT = env_positive_int("MANA_LOGIN_ADDRESS_FAILURE_LIMIT", 30)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_positive_int("MANA_LOGIN_COOLOFF_MINUTES", 15))
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Also what takes back a successful attempt, counted (as a failure) before its password was checked.
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "models.login_lockout.LoginLockoutHandler"
AXES_USERNAME_FORM_FIELD = "national_code"
AXES_USERNAME_CALLABLE = "models.login_lockout.national_code_of"
AXES_LOCKOUT_CALLABLE = "models.login_lockout.lockout_page"

# Sina (سینا), the government's single sign-on, through which main leaders sign in instead of a
# password (integrations/sina.py): an OpenID Connect authorization-code client, mozilla-django-oidc,
# which reads the OIDC_* names. Off unless MANA_SINA_ENABLED=1; on, a production process refuses to
# start without the provider's endpoints and the client's credentials. Register
# https://<host>/auth/sina/callback/ with Sina as this client's redirect URI.
MANA_SINA_ENABLED = env_bool("MANA_SINA_ENABLED", False)
OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ.get("SINA_OIDC_AUTHORIZATION_ENDPOINT", "").strip()
OIDC_OP_TOKEN_ENDPOINT = os.environ.get("SINA_OIDC_TOKEN_ENDPOINT", "").strip()
# Optional: without it the claims are read from the id_token alone.
OIDC_OP_USER_ENDPOINT = os.environ.get("SINA_OIDC_USERINFO_ENDPOINT", "").strip()
OIDC_OP_JWKS_ENDPOINT = os.environ.get("SINA_OIDC_JWKS_ENDPOINT", "").strip()
OIDC_RP_CLIENT_ID = os.environ.get("SINA_OIDC_CLIENT_ID", "").strip()
OIDC_RP_CLIENT_SECRET = os.environ.get("SINA_OIDC_CLIENT_SECRET", "").strip()
# RS256: the id_token's signature is checked with the provider's published keys (JWKS); HS256:
# with the client secret. The token's own header cannot choose another algorithm.
OIDC_RP_SIGN_ALGO = os.environ.get("SINA_OIDC_SIGN_ALGO", "RS256").strip().upper()
if OIDC_RP_SIGN_ALGO not in {"RS256", "HS256"}:
    raise ImproperlyConfigured(f"SINA_OIDC_SIGN_ALGO must be RS256 or HS256, not {OIDC_RP_SIGN_ALGO!r}")
OIDC_RP_SCOPES = os.environ.get("SINA_OIDC_SCOPES", "openid profile").strip()
# When set, an id_token from another issuer (its `iss`) is refused.
MANA_SINA_ISSUER = os.environ.get("SINA_OIDC_ISSUER", "").strip()
# Seconds each call to the provider (token, userinfo, JWKS) may take before the sign-in is refused.
try:
    OIDC_TIMEOUT = float(os.environ.get("SINA_OIDC_TIMEOUT", "").strip() or "10")
except ValueError:
    raise ImproperlyConfigured("SINA_OIDC_TIMEOUT must be a number of seconds")
if not OIDC_TIMEOUT > 0:
    raise ImproperlyConfigured("SINA_OIDC_TIMEOUT must be more than 0 seconds")
# A private CA's bundle (a file path) for the provider's TLS certificate; certificates are always checked.
OIDC_VERIFY_SSL = os.environ.get("SINA_OIDC_CA_BUNDLE", "").strip() or True
OIDC_USE_NONCE = True
OIDC_USE_PKCE = env_bool("SINA_OIDC_USE_PKCE", True)
# client_secret_basic instead of client_secret_post at the token endpoint.
OIDC_TOKEN_USE_BASIC_AUTH = env_bool("SINA_OIDC_TOKEN_USE_BASIC_AUTH", False)
OIDC_AUTHENTICATION_CALLBACK_URL = "sina-callback"
# Main leaders are registered beforehand; tokens are used once and never kept.
OIDC_CREATE_USER = False
OIDC_STORE_ACCESS_TOKEN = False
OIDC_STORE_ID_TOKEN = False
# The claim (id_token or userinfo) that carries the national code; Persian digits are accepted.
MANA_SINA_NATIONAL_CODE_CLAIM = os.environ.get("MANA_SINA_NATIONAL_CODE_CLAIM", "national_code").strip()
# Where the browser goes after signing in (unless /auth/sina/start/?next=… named a safe address),
# and after a refusal, with ?error=<ErrorCode> added; the default failure page says why in Persian.
MANA_SINA_LOGIN_REDIRECT_URL = os.environ.get("MANA_SINA_LOGIN_REDIRECT_URL", "").strip() or "/"
MANA_SINA_FAILURE_REDIRECT_URL = os.environ.get("MANA_SINA_FAILURE_REDIRECT_URL", "").strip() or "/auth/sina/failed/"
# ?next= may name this host or the frontend's (the hosts of the two addresses above).
OIDC_REDIRECT_ALLOWED_HOSTS = sorted(
    {urlsplit(url).netloc for url in (MANA_SINA_LOGIN_REDIRECT_URL, MANA_SINA_FAILURE_REDIRECT_URL)} - {""}
)
if PRODUCTION and MANA_SINA_ENABLED:
    # Half-configured, every main leader's sign-in would fail at the provider or at the callback.
    required = {
        "SINA_OIDC_AUTHORIZATION_ENDPOINT": OIDC_OP_AUTHORIZATION_ENDPOINT,
        "SINA_OIDC_TOKEN_ENDPOINT": OIDC_OP_TOKEN_ENDPOINT,
        "SINA_OIDC_CLIENT_ID": OIDC_RP_CLIENT_ID,
        "SINA_OIDC_CLIENT_SECRET": OIDC_RP_CLIENT_SECRET,
    }
    if OIDC_RP_SIGN_ALGO == "RS256":
        required["SINA_OIDC_JWKS_ENDPOINT"] = OIDC_OP_JWKS_ENDPOINT
    missing = [name for name, value in required.items() if not value]
    if missing:
        raise ImproperlyConfigured(f"MANA_SINA_ENABLED=1 in production needs {', '.join(missing)}.")
    endpoints = {
        "SINA_OIDC_AUTHORIZATION_ENDPOINT": OIDC_OP_AUTHORIZATION_ENDPOINT,
        "SINA_OIDC_TOKEN_ENDPOINT": OIDC_OP_TOKEN_ENDPOINT,
        "SINA_OIDC_USERINFO_ENDPOINT": OIDC_OP_USER_ENDPOINT,
        "SINA_OIDC_JWKS_ENDPOINT": OIDC_OP_JWKS_ENDPOINT,
    }
    plain = [name for name, url in endpoints.items() if url and urlsplit(url).scheme != "https"]
    if plain:
        raise ImproperlyConfigured(f"MANA_SINA_ENABLED=1 in production needs https:// addresses: {', '.join(plain)}.")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # Django's, with a Persian message (models/passwords.py).
    {"NAME": "models.passwords.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# One-time SMS codes (models/one_time_codes.py): valid MANA_OTP_TTL_SECONDS, refused after
# MANA_OTP_MAX_TRIES wrong tries. SMS sending (codes and forgot-password credentials) is throttled
# per national code and per client address (django-ratelimit's rate syntax, "3/10m").
MANA_OTP_TTL_SECONDS = env_positive_int("MANA_OTP_TTL_SECONDS", 120)
MANA_OTP_MAX_TRIES = env_positive_int("MANA_OTP_MAX_TRIES", 3)
MANA_SMS_RATE_PER_PERSON = os.environ.get("MANA_SMS_RATE_PER_PERSON", "3/10m")
MANA_SMS_RATE_PER_ADDRESS = os.environ.get("MANA_SMS_RATE_PER_ADDRESS", "30/h")

# API tokens (models/api_tokens.py, schema/bearer.py): requests per token and window, in
# django-ratelimit's syntax ("600/m", "10/5s"); over it, 429 RATE_LIMITED with Retry-After.
MANA_API_TOKEN_RATE = os.environ.get("MANA_API_TOKEN_RATE", "600/m").strip()
if not re.fullmatch(r"[1-9]\d*/\d*[smhd]", MANA_API_TOKEN_RATE):
    raise ImproperlyConfigured(f"MANA_API_TOKEN_RATE must be like '600/m' or '10/5s', not {MANA_API_TOKEN_RATE!r}")

# Captcha (models/captcha.py): five digits, valid CAPTCHA_TIMEOUT minutes, used once.
# CAPTCHA_TEST_MODE=1 accepts the answer "PASSED" for any key (tests and scripted demos); production
# refuses to start with it.
CAPTCHA_CHALLENGE_FUNCT = "models.captcha.digits_challenge"
CAPTCHA_LENGTH = 5
CAPTCHA_TIMEOUT = env_positive_int("MANA_CAPTCHA_TIMEOUT_MINUTES", 5)
CAPTCHA_IMAGE_SIZE = (150, 50)
CAPTCHA_FONT_SIZE = 36
CAPTCHA_TEST_MODE = env_bool("CAPTCHA_TEST_MODE", False)
if PRODUCTION and CAPTCHA_TEST_MODE:
    raise ImproperlyConfigured("MANA_ENV=production refuses CAPTCHA_TEST_MODE=1: it lets anyone past the captcha.")

LANGUAGE_CODE = "fa"
LANGUAGES = [("fa", "فارسی")]
# Persian for the libraries' strings that Django's and their own catalogs lack (the admin console's
# simple-history, guardian and newer Django pages; the scripts' strings too, hence a LOCALE_PATHS entry).
LOCALE_PATHS = [BASE_DIR / "models" / "locale"]
# Numeric Jalali dates «1402/10/10 14:30» (models/formats/fa/formats.py; the calendar: models/jalali_format.py).
FORMAT_MODULE_PATH = ["models.formats"]
# Stored in UTC, shown in Tehran time.
TIME_ZONE = "Asia/Tehran"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("MANA_STATIC_ROOT", VAR_DIR / "static"))
if not PRODUCTION:
    # WhiteNoise expects the folder collectstatic fills; in development the finders serve the files.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
    WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# GraphiQL's files, pinned and served from here (schema/graphiql/): only where GraphiQL is.
STATICFILES_DIRS = [BASE_DIR / "schema" / "graphiql" / "static"] if DEBUG else []
# Evidence files live outside every public path; they are served only through checked views.
PRIVATE_MEDIA_ROOT = Path(os.environ.get("MANA_PRIVATE_MEDIA_ROOT", VAR_DIR / "private"))
EVIDENCE_MAX_BYTES = int(os.environ.get("MANA_EVIDENCE_MAX_BYTES", str(10 * 1024 * 1024)))
# What a DOCX/XLSX (a ZIP) may expand to: its parts' count, total size and total/file-size ratio.
EVIDENCE_ARCHIVE_MAX_ENTRIES = int(os.environ.get("MANA_EVIDENCE_ARCHIVE_MAX_ENTRIES", "10000"))
EVIDENCE_ARCHIVE_MAX_BYTES = int(os.environ.get("MANA_EVIDENCE_ARCHIVE_MAX_BYTES", str(100 * 1024 * 1024)))
EVIDENCE_ARCHIVE_MAX_RATIO = float(os.environ.get("MANA_EVIDENCE_ARCHIVE_MAX_RATIO", "100"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# CORS (django-cors-headers), for web clients served from other origins: only the GraphQL
# endpoint, only the origins listed (none by default; «https://app.example.ir», scheme and host),
# with credentials. A listed origin's request that carries the session cookie still needs the CSRF
# token like any other, which is why the listed origins are trusted for the CSRF Origin check too.
# Nobody else's preflight is answered, so the README's rule stands for every other site: a
# cookie-less JSON request needs no CSRF token.
CORS_ALLOWED_ORIGINS = env_list("MANA_CORS_ALLOWED_ORIGINS", [])
_bad_origins = [origin for origin in CORS_ALLOWED_ORIGINS if not re.fullmatch(r"https?://[^/?#\s]+", origin)]
if _bad_origins:
    raise ImproperlyConfigured(
        f"MANA_CORS_ALLOWED_ORIGINS takes origins such as https://app.example.ir, not {', '.join(_bad_origins)}"
    )
CORS_URLS_REGEX = r"^/graphql/?$"
CORS_ALLOW_CREDENTIALS = True
CORS_ALLOW_HEADERS = (*corsheaders_default_headers, "x-request-id")
# Readable by the client's script: the request id, and how long to wait after a 429 or 503.
CORS_EXPOSE_HEADERS = ["X-Request-ID", "Retry-After"]
CORS_PREFLIGHT_MAX_AGE = 600
CSRF_TRUSTED_ORIGINS = [*CSRF_TRUSTED_ORIGINS, *(o for o in CORS_ALLOWED_ORIGINS if o not in CSRF_TRUSTED_ORIGINS)]

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

MANA = {
    # Relay connections never return more than this many rows at once.
    "MAX_PAGE_SIZE": 100,
    "DEFAULT_PAGE_SIZE": 20,
    # Refuse documents deeper or more aliased than any real client sends (cheap DoS guards).
    "MAX_QUERY_DEPTH": int(os.environ.get("MANA_MAX_QUERY_DEPTH", "15")),
    "MAX_ALIASES": int(os.environ.get("MANA_MAX_ALIASES", "30")),
    # Refused before parsing (DOCUMENT_TOO_LARGE): documents longer (UTF-8 bytes) or with more
    # tokens than any real client sends. The largest the suite sends (every field of every type,
    # tests/test_every_field.py) is ~20 KB and ~2,900 tokens; GraphiQL's introspection ~1.5 KB.
    "MAX_DOCUMENT_BYTES": int(os.environ.get("MANA_MAX_DOCUMENT_BYTES", str(64 * 1024))),
    "MAX_DOCUMENT_TOKENS": int(os.environ.get("MANA_MAX_DOCUMENT_TOKENS", "10000")),
    # Refused before execution (QUERY_TOO_COSTLY): every field costs 1, a connection multiplies
    # what it selects by its page size (schema/cost.py). The suite's costliest is ~13,000.
    "MAX_QUERY_COST": int(os.environ.get("MANA_MAX_QUERY_COST", "50000")),
    # Parsed and validated documents kept per process (least recently used go first).
    "DOCUMENT_CACHE_SIZE": int(os.environ.get("MANA_DOCUMENT_CACHE_SIZE", "256")),
    # Serves GraphiQL at /graphql/ for people exploring the API.
    "GRAPHIQL": DEBUG,
    # Who may introspect the schema: "signed-in" (production's default) or "public".
    "INTROSPECTION": os.environ.get("MANA_INTROSPECTION", "signed-in" if PRODUCTION else "public").strip().lower(),
}

if MANA["INTROSPECTION"] not in {"signed-in", "public"}:
    raise ImproperlyConfigured(f"MANA_INTROSPECTION must be 'signed-in' or 'public', not {MANA['INTROSPECTION']!r}")

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"

# A refused CSRF check answers in the GraphQL error format, not Django's HTML page.
CSRF_FAILURE_VIEW = "schema.views.csrf_failure"


def env_positive_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip() or str(default)
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        raise ImproperlyConfigured(f"{name} must be a positive number of seconds, not {raw!r}")
    return value


# Background tasks (integrations/sms/tasks.py). "immediate" (the default) runs a task inside the
# request that enqueued it, once its transaction commits; "database" queues it in the database
# for `manage.py db_worker`, which also lets a failed SMS wait before its retry.
MANA_TASKS_BACKEND = os.environ.get("MANA_TASKS_BACKEND", "immediate").strip().lower()
_TASK_BACKENDS = {
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
    "database": "django_tasks_db.DatabaseBackend",
}
if MANA_TASKS_BACKEND not in _TASK_BACKENDS:
    raise ImproperlyConfigured(f"MANA_TASKS_BACKEND must be 'immediate' or 'database', not {MANA_TASKS_BACKEND!r}")
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[MANA_TASKS_BACKEND]}}

# Live updates over WebSocket (subscriptions/). No connection_init within this many seconds closes
# the socket with 4408; at most so many operations at once on one socket, and so many sockets at
# once per person (counted in the cache, which REDIS_URL makes shared by every worker); a socket's
# session is re-checked this often, so an expired session ends its sockets.
MANA_WS_INIT_TIMEOUT = env_positive_float("MANA_WS_INIT_TIMEOUT", 10)
MANA_WS_MAX_SUBSCRIPTIONS = env_positive_int("MANA_WS_MAX_SUBSCRIPTIONS", 20)
MANA_WS_MAX_CONNECTIONS_PER_PERSON = env_positive_int("MANA_WS_MAX_CONNECTIONS_PER_PERSON", 10)
MANA_WS_SESSION_CHECK_INTERVAL = env_positive_float("MANA_WS_SESSION_CHECK_INTERVAL", 60)

# SMS (integrations/sms/). The console backend prints texts (one-time codes, passwords) to stdout,
# so production defaults to the real gateway: without its API key every message fails, loudly.
SMS_BACKEND = os.environ.get(
    "SMS_BACKEND",
    "integrations.sms.backends.kavenegar.SmsBackend" if PRODUCTION else "integrations.sms.backends.console.SmsBackend",
)
SMS_MAX_ATTEMPTS = env_positive_int("SMS_MAX_ATTEMPTS", 5)
# Seconds before the first retry, doubled before each next one (at most an hour); database queue only.
SMS_RETRY_DELAY = env_positive_int("SMS_RETRY_DELAY", 30)
SMS_FILE_PATH = Path(os.environ.get("SMS_FILE_PATH", VAR_DIR / "sms.jsonl"))
SMS_CONNECT_TIMEOUT = env_positive_float("SMS_CONNECT_TIMEOUT", 5)
SMS_READ_TIMEOUT = env_positive_float("SMS_READ_TIMEOUT", 15)
SMS_KAVENEGAR_BASE_URL = os.environ.get("SMS_KAVENEGAR_BASE_URL", "https://api.kavenegar.com/v1")
SMS_KAVENEGAR_API_KEY = os.environ.get("SMS_KAVENEGAR_API_KEY", "")
# The sending line number; empty: the account's default line.
SMS_KAVENEGAR_SENDER = os.environ.get("SMS_KAVENEGAR_SENDER", "")

# Civil registry and Shahkar (integrations/identity/): "offline" answers from a JSON file of
# people (the demo's by default), "http" asks the real services.
MANA_IDENTITY_BACKEND = os.environ.get("MANA_IDENTITY_BACKEND", "http" if PRODUCTION else "offline").strip().lower()
if MANA_IDENTITY_BACKEND not in {"offline", "http"}:
    raise ImproperlyConfigured(f"MANA_IDENTITY_BACKEND must be 'offline' or 'http', not {MANA_IDENTITY_BACKEND!r}")
MANA_IDENTITY_FIXTURE = Path(
    os.environ.get("MANA_IDENTITY_FIXTURE", BASE_DIR / "integrations" / "identity" / "demo_people.json")
)
MANA_CIVIL_REGISTRY_URL = os.environ.get("MANA_CIVIL_REGISTRY_URL", "")
MANA_CIVIL_REGISTRY_TOKEN = os.environ.get("MANA_CIVIL_REGISTRY_TOKEN", "")
MANA_SHAHKAR_URL = os.environ.get("MANA_SHAHKAR_URL", "")
MANA_SHAHKAR_TOKEN = os.environ.get("MANA_SHAHKAR_TOKEN", "")
MANA_IDENTITY_CONNECT_TIMEOUT = env_positive_float("MANA_IDENTITY_CONNECT_TIMEOUT", 3)
MANA_IDENTITY_READ_TIMEOUT = env_positive_float("MANA_IDENTITY_READ_TIMEOUT", 10)
# Retries after the first try (connection errors, read timeouts, HTTP 500/502/503/504).
MANA_IDENTITY_RETRIES = int(os.environ.get("MANA_IDENTITY_RETRIES", "2"))
MANA_IDENTITY_RETRY_BACKOFF = float(os.environ.get("MANA_IDENTITY_RETRY_BACKOFF", "0.5"))
# A CA bundle for services whose certificates a private (government) CA signed; empty: the system's.
MANA_IDENTITY_CA_BUNDLE = os.environ.get("MANA_IDENTITY_CA_BUNDLE", "")

# Operations (settings/operations.py, health.py, metrics.py). Metrics are read at
# MANA_METRICS_PATH by the addresses or networks of MANA_METRICS_ALLOWED_IPS (development: this
# machine; production: none) or with «Authorization: Bearer <MANA_METRICS_TOKEN>».
MANA_METRICS_PATH = os.environ.get("MANA_METRICS_PATH", "").strip() or "/metrics"
if not re.fullmatch(r"/[A-Za-z0-9._~/-]*", MANA_METRICS_PATH) or MANA_METRICS_PATH in {"/healthz", "/readyz"}:
    raise ImproperlyConfigured(f"MANA_METRICS_PATH must be a path such as /metrics, not {MANA_METRICS_PATH!r}")
MANA_METRICS_TOKEN = os.environ.get("MANA_METRICS_TOKEN", "").strip()
MANA_METRICS_ALLOWED_IPS = env_list("MANA_METRICS_ALLOWED_IPS", [] if PRODUCTION else ["127.0.0.1", "::1"])
try:
    [ipaddress.ip_network(address, strict=False) for address in MANA_METRICS_ALLOWED_IPS]
except ValueError as error:
    raise ImproperlyConfigured(f"MANA_METRICS_ALLOWED_IPS takes addresses or networks: {error}")
MANA_READINESS_TIMEOUT = env_positive_float("MANA_READINESS_TIMEOUT", 2)

# Logs go to stderr; MANA_LOG_FORMAT=json (production's default) writes each record as one JSON
# line, with the request id of the request it was written for (settings/request_log.py).
MANA_LOG_FORMAT = os.environ.get("MANA_LOG_FORMAT", "json" if PRODUCTION else "text").strip().lower()
if MANA_LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"MANA_LOG_FORMAT must be 'json' or 'text', not {MANA_LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "settings.request_log.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": ["levelname", "name", "message"],
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",
            "json_ensure_ascii": False,
        },
        "text": {"format": "{asctime} {levelname} {name} {message}", "style": "{"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": MANA_LOG_FORMAT, "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
