"""The one settings module. Everything comes from the environment, with safe development defaults.

Embedded defaults (no services): SQLite, local-memory cache and channel layer, django-q2's ORM broker,
local files, console e-mail. Set DATABASE_URL / REDIS_URL / S3_* / EMAIL_URL for production services.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

from core.registry import discover_modules, resolve_enabled_modules
from settings.env import env_bool, env_int, env_list, env_str
from settings.keys import write_rsa_key

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

TESTING = "pytest" in sys.modules or env_bool("TESTING")
PRODUCTION = env_bool("PRODUCTION")
DEBUG = env_bool("DEBUG", default=not PRODUCTION and not TESTING)

_DEV_SECRET = "dev-insecure-secret-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz"
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

if PRODUCTION:
    problems = []
    if SECRET_KEY == _DEV_SECRET or len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure"):
        problems.append("SECRET_KEY is the development default or shorter than 50 characters")
    if DEBUG:
        problems.append("DEBUG is on")
    if not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS:
        problems.append("ALLOWED_HOSTS is empty or a wildcard")
    if not env_str("JWT_PRIVATE_KEY") and not env_str("JWT_PRIVATE_KEY_FILE"):
        problems.append("JWT_PRIVATE_KEY (an RSA PEM) is not set")
    if problems:
        raise ImproperlyConfigured("Refusing to start in production: " + "; ".join(problems))

# --- modules -------------------------------------------------------------------------------------
MODULE_PACKAGES = env_list("MODULE_PACKAGES", ["modules"])
AVAILABLE_MODULES = discover_modules(MODULE_PACKAGES)
ENABLED_MODULES = resolve_enabled_modules(AVAILABLE_MODULES, env_str("ENABLED_MODULES", "all"))

INSTALLED_APPS = [
    "daphne",
    "core.admin_apps.PlatformAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.google",
    "allauth.mfa",
    "allauth.headless",
    "allauth.usersessions",
    "channels",
    "django_q",
    "ninja",
    "core.apps.CoreConfig",
    *[info.app for info in ENABLED_MODULES],
]

MIDDLEWARE = [
    "core.observability.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.api.public_cache.PublicReadCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "core.ratelimit.AuthRateLimitMiddleware",  # code attempts per IP; allauth's 429 as a problem
]

ROOT_URLCONF = "settings.urls"
WSGI_APPLICATION = "settings.wsgi.application"
ASGI_APPLICATION = "settings.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "core" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# --- database ------------------------------------------------------------------------------------


# Django's PostgreSQL backend with a health check that sends no SELECT 1 while the connection is idle.
POSTGRES_ENGINE = "core.pgbackend"


def _database_from_url(url: str) -> dict:
    parsed = urlparse(url)
    if parsed.scheme in {"sqlite", "sqlite3"}:
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": parsed.path[1:] or str(VAR_DIR / "db.sqlite3")}
    if parsed.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured(f"DATABASE_URL scheme {parsed.scheme!r} is not supported (use postgresql://)")
    config = {
        "ENGINE": POSTGRES_ENGINE,
        "NAME": unquote(parsed.path.lstrip("/")),
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": parsed.hostname or "",
        "PORT": str(parsed.port or ""),
        "OPTIONS": {},
        "CONN_HEALTH_CHECKS": True,
    }
    # Server-side binding, and each statement prepared on a connection after its 2nd use: PostgreSQL
    # then skips planning, which cost more than executing our short queries (the booking's profile
    # read: 0.42 ms planning, 0.07 ms execution). Booking creation's database CPU 2.7-3.3 -> 1.7-2.2 ms.
    # Set 0 behind a PgBouncer in transaction mode (prepared statements live in one server session).
    prepare = env_int("DB_PREPARE_THRESHOLD", 2)
    if prepare > 0:
        config["OPTIONS"].update({"server_side_binding": True, "prepare_threshold": prepare})
    pool_max = env_int("DB_POOL_MAX", 0)
    if pool_max > 0:  # Django 5.1+ native psycopg pool; CONN_MAX_AGE must be 0 with it
        config["OPTIONS"]["pool"] = {"min_size": env_int("DB_POOL_MIN", 2), "max_size": pool_max, "timeout": 10}
        config["CONN_MAX_AGE"] = 0
    else:
        config["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 0 if TESTING else 60)
    return config


DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": _database_from_url(DATABASE_URL)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(VAR_DIR / "db.sqlite3")),
            # WAL + a busy timeout so the web process and the qcluster share the file without errors.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"},
        }
    }
IS_POSTGRES = DATABASES["default"]["ENGINE"] == POSTGRES_ENGINE

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"

# --- cache, channels, tasks ----------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL and TESTING and env_str("PYTEST_XDIST_WORKER"):
    # Parallel test workers each get their own Redis database, so one worker's FLUSHDB (cache.clear)
    # never empties another's rate-limit counters or cache entries.
    _worker = int(env_str("PYTEST_XDIST_WORKER").lstrip("gw") or 0)
    _parsed = urlparse(REDIS_URL)
    _db = int((_parsed.path or "/0").lstrip("/") or 0)
    REDIS_URL = _parsed._replace(path=f"/{(_db + 1 + _worker) % 16}").geturl()
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "tutoring"),
            "TIMEOUT": 300,
        }
    }
    # redis-py 8 reads with a 5 s socket timeout by default, and channels-redis's list layer waits for
    # messages with a 5 s BZPOPMIN: the read timed out as the reply arrived and killed the socket's
    # consumer (daphne closed it with 1011; 2 of 1,000 in the fan-out benchmark). redis-py 8's asyncio
    # pool also stops at 100 connections and then raises: 1,000 sockets closing at once failed 600-1,500
    # group leaves in the fan-out benchmark (dead channels left in users' groups for a day).
    # Connections open only as a burst needs them.
    _channel_hosts = [
        {
            "address": REDIS_URL,
            "socket_timeout": env_int("CHANNEL_SOCKET_TIMEOUT", 30),
            "max_connections": env_int("CHANNEL_MAX_CONNECTIONS", 1000),
        }
    ]
    _channel_prefix = env_str("CACHE_KEY_PREFIX", "tutoring") + ":asgi"
    if env_str("CHANNEL_BACKEND", "pubsub") == "pubsub":
        # The default: Redis pub/sub. One PUBLISH per push, and each daphne process's subscriber
        # connection hands messages to its sockets in memory, where the list layer (CHANNEL_BACKEND=core)
        # takes each socket's message off Redis with its own round trips, one after another: fan-out to
        # 1,000 sockets on 2 daphne processes, p50 330-350 ms with it, 15-90 ms with pub/sub. No backlog
        # either way that matters here: a socket not connected when a push is published does not get
        # it. After a Redis restart the subscriber reconnects and subscribes again.
        CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                "CONFIG": {"hosts": _channel_hosts, "prefix": _channel_prefix},
            }
        }
    else:
        CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {
                    "hosts": _channel_hosts,
                    # One group per user keeps group_send to one Redis call per socket of that user.
                    # Every socket of one daphne process shares ONE Redis key (the process's channel
                    # prefix), so capacity bounds that process's whole backlog, not one socket's: at
                    # 1,000, a fan-out to 1,000 sockets lost 3 messages silently. Drops left are
                    # counted (core.realtime.push) and the short expiry keeps a stalled process from
                    # piling up.
                    "capacity": env_int("CHANNEL_CAPACITY", 100_000),
                    "expiry": 30,
                    "group_expiry": 86400,
                    "prefix": _channel_prefix,
                },
            }
        }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "default"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1000}}}

Q_CLUSTER: dict = {
    "name": "tutoring",
    "workers": env_int("Q_WORKERS", 2),
    "timeout": 120,
    "retry": 180,
    "max_attempts": 3,
    "ack_failures": True,
    "catch_up": False,
    "label": "Tasks",
    # In tests every task runs inline, in the caller's transaction-aware context.
    "sync": TESTING and not env_bool("Q_ASYNC_IN_TESTS"),
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
    Q_CLUSTER["broker_class"] = "core.task_broker.PooledRedisBroker"  # one client per process
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["poll"] = 0.5

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- auth (django-allauth headless, app client, JWT) ---------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:  # argon2 by design costs ~50 ms; tests create hundreds of users
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "first_name", "last_name")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

ACCOUNT_ADAPTER = "core.identity.adapters.AccountAdapter"
ACCOUNT_SIGNUP_FORM_CLASS = "core.identity.forms.SignupExtraForm"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False  # headless: we revoke other sessions ourselves
ACCOUNT_RATE_LIMITS = {
    "login": env_str("RATE_LIMIT_LOGIN_IP", "30/m/ip"),
    "login_failed": env_str("RATE_LIMIT_LOGIN_FAILED", "10/m/ip,5/5m/key"),
    "signup": env_str("RATE_LIMIT_SIGNUP", "5/m/ip"),
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
}
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_MAX_ATTEMPTS = 3
ACCOUNT_PASSWORD_RESET_BY_CODE_MAX_ATTEMPTS = 3
SOCIALACCOUNT_ONLY = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_ADAPTER = "core.identity.adapters.SocialAccountAdapter"
SOCIALACCOUNT_PROVIDERS = {
    "google": {
        "APPS": [
            {
                "client_id": env_str("GOOGLE_CLIENT_ID", "development-google-client-id"),
                "secret": env_str("GOOGLE_CLIENT_SECRET", ""),
                "settings": {"scope": ["profile", "email"]},
            }
        ],
        "EMAIL_AUTHENTICATION": True,
        "VERIFIED_EMAIL": True,
        # Where Google's id_token signing certificates are fetched; tests serve their own on loopback.
        "CERTS_URL": env_str(
            "GOOGLE_CERTS_URL",
            f"http://127.0.0.1:{18700 + int(env_str('PYTEST_XDIST_WORKER', 'gw0').lstrip('gw') or 0)}/google-certs"
            if TESTING
            else "https://www.googleapis.com/oauth2/v1/certs",
        ),
    }
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env_str("MFA_TOTP_ISSUER", "Tutoring Platform")

HEADLESS_ONLY = True
HEADLESS_CLIENTS = ("app",)
HEADLESS_TOKEN_STRATEGY = "allauth.headless.tokens.strategies.jwt.JWTTokenStrategy"
HEADLESS_JWT_ALGORITHM = "RS256"
HEADLESS_JWT_ACCESS_TOKEN_EXPIRES_IN = env_int("JWT_ACCESS_TOKEN_EXPIRES_IN", 300)
HEADLESS_JWT_REFRESH_TOKEN_EXPIRES_IN = env_int("JWT_REFRESH_TOKEN_EXPIRES_IN", 86400 * 14)
HEADLESS_JWT_ROTATE_REFRESH_TOKEN = True
HEADLESS_JWT_STATEFUL_VALIDATION_ENABLED = True
HEADLESS_SERVE_SPECIFICATION = False
FRONTEND_URL = env_str("FRONTEND_URL", "http://localhost:3000")
HEADLESS_FRONTEND_URLS = {
    "account_confirm_email": FRONTEND_URL + "/account/verify-email/{key}",
    "account_reset_password_from_key": FRONTEND_URL + "/account/password/reset/key/{key}",
    "account_signup": FRONTEND_URL + "/account/signup",
}


def _jwt_private_key() -> str:
    if key := env_str("JWT_PRIVATE_KEY"):
        return key.replace("\\n", "\n")
    if path := env_str("JWT_PRIVATE_KEY_FILE"):
        return Path(path).read_text()
    # Development and tests: one RSA key generated per machine and kept under var/.
    dev_key = VAR_DIR / "jwt-dev-private.pem"
    if not dev_key.exists():
        write_rsa_key(dev_key)
    return dev_key.read_text()


HEADLESS_JWT_PRIVATE_KEY = _jwt_private_key()

# --- i18n, time ----------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- files ---------------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
S3_BUCKET = env_str("S3_BUCKET")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env_str("S3_ENDPOINT_URL") or None,
            "access_key": env_str("S3_ACCESS_KEY_ID"),
            "secret_key": env_str("S3_SECRET_ACCESS_KEY"),
            "region_name": env_str("S3_REGION") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
AVATAR_MAX_BYTES = env_int("AVATAR_MAX_BYTES", 5 * 1024 * 1024)
UPLOAD_MAX_PIXELS = env_int("UPLOAD_MAX_PIXELS", 40_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_JSON_BODY_BYTES", 2 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- e-mail --------------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Tutoring Platform <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    EMAIL_TIMEOUT = 15
else:
    EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")

# --- API, security, observability ----------------------------------------------------------------
# Registered public GETs (search, profiles, slots) answered from the cache as rendered bytes.
PUBLIC_READ_CACHE = env_bool("PUBLIC_READ_CACHE", True)
API_THROTTLE_ANON = env_str("API_THROTTLE_ANON", "120/m")
API_THROTTLE_USER = env_str("API_THROTTLE_USER", "600/m")
# Abuse limits (core.ratelimit; in the cache, per process while Redis is down). Per user unless noted.
RATE_LIMIT_MESSAGES = env_str("RATE_LIMIT_MESSAGES", "30/m")  # messaging: sending (text or attachment)
RATE_LIMIT_COACH = env_str("RATE_LIMIT_COACH", "10/m")  # coach: messages (the daily quota is COACH_DAILY_MESSAGES)
RATE_LIMIT_UPLOADS = env_str("RATE_LIMIT_UPLOADS", "20/h")  # avatar, message attachments, timetable photos
RATE_LIMIT_AUTH_CODES = env_str("RATE_LIMIT_AUTH_CODES", "20/m")  # per IP: code and TOTP attempts
# Proxies in front that append to X-Forwarded-For (1 behind the bundled nginx). 0: REMOTE_ADDR only,
# so a client cannot choose its rate-limit bucket by sending X-Forwarded-For itself.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
NINJA_NUM_PROXIES = TRUSTED_PROXY_COUNT
METRICS_ENABLED = env_bool("METRICS_ENABLED", True)
METRICS_TOKEN = env_str("METRICS_TOKEN")
QUERY_COUNT_HEADER = env_bool("QUERY_COUNT_HEADER", False)  # X-DB-Queries on every response (benchmarks)
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", [])

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^health", r"^metrics"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOG_JSON = env_bool("LOG_JSON", not DEBUG)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.observability.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "core.observability.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_JSON else "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django_q": {"level": "WARNING" if TESTING else "INFO"},
    },
}

ADMIN_REQUIRE_MFA = env_bool("ADMIN_REQUIRE_MFA", PRODUCTION)
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000")
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 365)
ACCOUNT_DELETION_GRACE_DAYS = env_int("ACCOUNT_DELETION_GRACE_DAYS", 30)

# --- module settings from the environment -------------------------------------------------------
# Modules read their settings with getattr(settings, NAME, default) and document them in their
# README. Any of these names set in the environment becomes a setting: whole numbers and decimals
# are converted, JSON objects and lists (for the *_ENGINES / *_PROVIDERS maps) are parsed.
MODULE_SETTINGS_FROM_ENV = (
    "BOOKING_REFUND_CUTOFF_HOURS",
    "BOOKING_PENDING_EXPIRY_HOURS",
    "BOOKING_AUTOCOMPLETE_AFTER_HOURS",
    "MEETING_BASE_URL",
    "ICS_UID_DOMAIN",
    "PAYMENT_PROVIDER",
    "PAYMENT_PROVIDERS",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_API_BASE",
    "STRIPE_MAX_NETWORK_RETRIES",
    "PLATFORM_FEE_PERCENT",
    "WITHDRAWAL_MINIMUM_MINOR",
    "PAYOUT_HOLD_DAYS",
    "MESSAGING_SEARCH_CONFIG",
    "NOTIFICATIONS_EMAIL_ATTEMPTS",
    "NOTIFICATIONS_EMAIL_BACKOFF_SECONDS",
    "NOTIFICATIONS_EMAIL_LOG_RETENTION_DAYS",
    "NOTIFICATIONS_MESSAGE_DELAY_MINUTES",
    "NOTIFICATIONS_RETENTION_DAYS",
    "OCR_ENGINE",
    "OCR_ENGINES",
    "OCR_FLAG_BELOW",
    "OCR_GOOGLE_VISION_ENDPOINT",
    "OCR_GOOGLE_VISION_LANGUAGES",
    "OCR_GOOGLE_VISION_TIMEOUT",
    "OCR_MATCH_MIN_SCORE",
    "OCR_STALE_AFTER_SECONDS",
    "OCR_TESSERACT_CMD",
    "OCR_TESSERACT_LANGS",
    "OCR_TESSERACT_PSM",
    "COACH_ENGINE",
    "COACH_ENGINES",
    "COACH_ENGINE_OPTIONS",
    "COACH_MODEL",
    "COACH_TIMEOUT_SECONDS",
    "COACH_CONTEXT_MAX_TOKENS",
    "COACH_HISTORY_MESSAGES",
    "COACH_HISTORY_MAX_TOKENS",
    "COACH_DAILY_MESSAGES",
    "COACH_DAILY_TOKENS",
    "GEMINI_API_KEY",
    "GEMINI_BASE_URL",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_MODEL",
)


def _env_value(raw: str) -> object:
    import json as _json
    import re as _re

    text = raw.strip()
    if _re.fullmatch(r"-?\d+", text):
        return int(text)
    if _re.fullmatch(r"-?\d+\.\d*", text):
        return float(text)
    if text[:1] in "[{":
        return _json.loads(text)
    return raw


for _name in MODULE_SETTINGS_FROM_ENV:
    if os.environ.get(_name, "") != "":
        globals()[_name] = _env_value(os.environ[_name])

# --- product rules shared by modules -------------------------------------------------------------
PLATFORM_NAME = env_str("PLATFORM_NAME", "Tutoring Platform")
DEFAULT_CURRENCY = env_str("DEFAULT_CURRENCY", "USD")
ADMIN_EMAIL = env_str("ADMIN_EMAIL")
ADMIN_PASSWORD = env_str("ADMIN_PASSWORD")
