"""Precis settings, read from environment variables.

Without any variables set, Precis runs as the embedded demo: SQLite in ``var/`` and a
Celery broker that is a SQLite file too, so no server is needed. Production sets
``DATABASE_URL`` (PostgreSQL), ``CELERY_BROKER_URL`` (Redis), ``DJANGO_SECRET_KEY`` and
``DJANGO_DEBUG=0``; docs/operations.md lists every variable.
"""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PRECIS_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise RuntimeError("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off")
    SECRET_KEY = "precis-insecure-development-key-only-for-the-local-demo-0123456789"
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_celery_beat",
    "accounts",
    "jobs",
    "customers",
    "analytics",
    "segments",
    "campaigns",
    "surveys",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Serves survey personal links past the layers below (none applies to them): see its docstring.
    "surveys.middleware.PersonalLinkMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.roles",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'precis.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        # Off by default: the check is a round trip before every request's first query
        # (docs/operations.md, DATABASE_CONN_HEALTH_CHECKS).
        conn_health_checks=os.environ.get("DATABASE_CONN_HEALTH_CHECKS", "0") == "1",
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the Celery worker write to the same file: WAL lets readers go
    # on during a write, IMMEDIATE transactions queue writers instead of failing them.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    # A file, not memory, so that a real worker process can share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-precis-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The public survey pages' two hot statements are prepared per connection (surveys/prepared.py);
# 0 behind a connection pooler in transaction mode that cannot keep prepared statements.
PRECIS_PREPARED_STATEMENTS = os.environ.get("PRECIS_PREPARED_STATEMENTS", "1") == "1"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("PRECIS_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Uploaded CSV files can be large; they stream to disk instead of memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("PRECIS_MAX_REQUEST_BYTES", 50 * 1024 * 1024))
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Security: strict by default when DEBUG is off (manage.py check --deploy is clean).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.RolePermission"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Precis API",
    "DESCRIPTION": "Marketing automation for e-commerce: customer data, segments, campaigns, analytics and surveys.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI is served from static files (no CDN).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several choice sets are called "kind" (a segment, a ready-made set, an import): name them.
    "ENUM_NAME_OVERRIDES": {
        "ReadyMadeKindEnum": "segments.api.ReadyMadeKind",
        "SegmentKindEnum": "segments.models.Segment.Kind",
    },
}

# Celery: no server needed by default (kombu's SQLAlchemy transport over a SQLite file).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", f"sqla+sqlite:///{VAR_DIR / 'broker.sqlite3'}")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("PRECIS_CELERY_QUEUE", "celery")
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # A task not acknowledged within an hour (worker killed) is delivered again.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}

# Ingestion limits.
PRECIS_BULK_MAX_RECORDS = 10_000
PRECIS_IMPORT_CHUNK_ROWS = int(os.environ.get("PRECIS_IMPORT_CHUNK_ROWS", "200000"))
PRECIS_IMPORT_WRITERS = int(os.environ.get("PRECIS_IMPORT_WRITERS", "2"))

# Cache: per-process memory by default; CACHE_URL (redis://…) shares it between web processes
# and machines, which the survey rate limit needs in production.
CACHE_URL = os.environ.get("CACHE_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Churn early warning: a scoring lists customers whose risk rose to this threshold or above,
# among the top share of customers by all-time spend (1.0 = every customer).
PRECIS_CHURN_ALERT_THRESHOLD = float(os.environ.get("PRECIS_CHURN_ALERT_THRESHOLD", "0.7"))
PRECIS_CHURN_ALERT_TOP_SPEND_SHARE = float(os.environ.get("PRECIS_CHURN_ALERT_TOP_SPEND_SHARE", "0.2"))

# Surveys: anonymous-link submissions allowed per client address per hour (0 = no limit).
PRECIS_SURVEY_ANONYMOUS_POSTS_PER_HOUR = int(os.environ.get("PRECIS_SURVEY_ANONYMOUS_POSTS_PER_HOUR", "30"))

# Campaign sending (docs/campaigns.md, "Sending"): batch size per claim, how long a worker
# holds claimed messages before another takes them over, how long one drain task runs,
# how many workers a dispatch starts, retries of temporary errors, and how often a
# triggered campaign may reach the same customer.
PRECIS_SEND_BATCH = int(os.environ.get("PRECIS_SEND_BATCH", "200"))
PRECIS_SEND_LEASE_SECONDS = int(os.environ.get("PRECIS_SEND_LEASE_SECONDS", "300"))
PRECIS_SEND_TASK_SECONDS = float(os.environ.get("PRECIS_SEND_TASK_SECONDS", "120"))
PRECIS_SEND_PARALLEL = int(os.environ.get("PRECIS_SEND_PARALLEL", "2"))
PRECIS_SEND_MAX_ATTEMPTS = int(os.environ.get("PRECIS_SEND_MAX_ATTEMPTS", "5"))
PRECIS_SEND_RETRY_SECONDS = float(os.environ.get("PRECIS_SEND_RETRY_SECONDS", "30"))
PRECIS_TRIGGER_REPEAT_DAYS = int(os.environ.get("PRECIS_TRIGGER_REPEAT_DAYS", "30"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("PRECIS_LOG_LEVEL", "INFO")},
}

# --- Campaign channels -------------------------------------------------------------------
# How campaign messages leave Precis and how the public tracking links behave
# (campaigns/channels/, campaigns/content/, campaigns/tracking/; docs/operations.md).
# Email goes through any Django email backend: django.core.mail.backends.smtp.EmailBackend
# with the EMAIL_HOST* settings in production (not idempotent: a retry after a crash can
# send twice), any anymail backend (e.g. anymail.backends.mailgun.EmailBackend + ANYMAIL),
# the console, or by default the local file sink that writes one .eml per message into
# PRECIS_OUTBOX_DIR and never writes the same message twice.
PRECIS_CAMPAIGN_EMAIL_BACKEND = os.environ.get(
    "PRECIS_CAMPAIGN_EMAIL_BACKEND", "campaigns.channels.sinks.MessageFileEmailBackend"
)
PRECIS_CAMPAIGN_FROM_EMAIL = os.environ.get("PRECIS_CAMPAIGN_FROM_EMAIL", "Precis <news@precis.localhost>")
PRECIS_OUTBOX_DIR = Path(os.environ.get("PRECIS_OUTBOX_DIR", VAR_DIR / "outbox"))
# SMS and webhook: campaigns.channels.http.HttpChannelBackend posts JSON to the URL with an
# Idempotency-Key header (the message id), an optional bearer token and an optional
# X-Precis-Signature HMAC; *_IDEMPOTENT=1 only if the endpoint honours Idempotency-Key.
# The default console backend prints the messages (demo).
PRECIS_SMS_BACKEND = os.environ.get("PRECIS_SMS_BACKEND", "campaigns.channels.console.ConsoleChannelBackend")
PRECIS_SMS_URL = os.environ.get("PRECIS_SMS_URL", "")
PRECIS_SMS_TOKEN = os.environ.get("PRECIS_SMS_TOKEN", "")
PRECIS_SMS_SIGNING_SECRET = os.environ.get("PRECIS_SMS_SIGNING_SECRET", "")
PRECIS_SMS_IDEMPOTENT = env_bool("PRECIS_SMS_IDEMPOTENT", False)
PRECIS_SMS_TIMEOUT = float(os.environ.get("PRECIS_SMS_TIMEOUT", "10"))
PRECIS_WEBHOOK_BACKEND = os.environ.get("PRECIS_WEBHOOK_BACKEND", "campaigns.channels.console.ConsoleChannelBackend")
PRECIS_WEBHOOK_URL = os.environ.get("PRECIS_WEBHOOK_URL", "")
PRECIS_WEBHOOK_TOKEN = os.environ.get("PRECIS_WEBHOOK_TOKEN", "")
PRECIS_WEBHOOK_SIGNING_SECRET = os.environ.get("PRECIS_WEBHOOK_SIGNING_SECRET", "")
PRECIS_WEBHOOK_IDEMPOTENT = env_bool("PRECIS_WEBHOOK_IDEMPOTENT", False)
PRECIS_WEBHOOK_TIMEOUT = float(os.environ.get("PRECIS_WEBHOOK_TIMEOUT", "10"))
# Absolute links in messages (tracking, unsubscribe, survey links): https://shop.example.com.
# Without it links are site-relative and email gets no List-Unsubscribe header.
PRECIS_PUBLIC_BASE_URL = os.environ.get("PRECIS_PUBLIC_BASE_URL", "")
PRECIS_SHOP_NAME = os.environ.get("PRECIS_SHOP_NAME", "Precis")
# Optional mailto target added to List-Unsubscribe (the mailbox must be processed by you).
PRECIS_UNSUBSCRIBE_MAILTO = os.environ.get("PRECIS_UNSUBSCRIBE_MAILTO", "")
# Product links in templates when a product has no attributes.url: "{sku}" is replaced.
PRECIS_PRODUCT_URL = os.environ.get("PRECIS_PRODUCT_URL", "")
PRECIS_TEMPLATE_RECOMMENDATIONS = int(os.environ.get("PRECIS_TEMPLATE_RECOMMENDATIONS", "5"))
# Public tracking links: requests per client address per hour and kind of link (0 = no limit).
PRECIS_TRACKING_REQUESTS_PER_HOUR = int(os.environ.get("PRECIS_TRACKING_REQUESTS_PER_HOUR", "1000"))
# The generic bounce/complaint webhook checks X-Precis-Signature (HMAC-SHA256 of the body)
# with this secret; empty closes the webhook.
PRECIS_WEBHOOK_SECRET = os.environ.get("PRECIS_WEBHOOK_SECRET", "")
# django-anymail: ESP credentials and the webhook basic-auth secret ("user:password") for
# /api/campaigns/webhooks/anymail/<esp>/tracking/.
ANYMAIL = {
    key.removeprefix("ANYMAIL_"): value
    for key, value in os.environ.items()
    if key.startswith("ANYMAIL_") and key != "ANYMAIL_"
}
# --- end of Campaign channels ------------------------------------------------------------
