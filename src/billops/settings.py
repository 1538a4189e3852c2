"""Django settings. Everything an operator changes comes from BILLOPS_* environment variables
(docs/operations.md lists them); the defaults give the embedded mode: SQLite under ./var."""

from __future__ import annotations

import os
import secrets
from decimal import Decimal, InvalidOperation
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

PACKAGE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("BILLOPS_VAR_DIR", "var")).resolve()


def _secret_key() -> str:
    """BILLOPS_SECRET_KEY, or a key generated once and kept in var/secret_key."""
    if key := os.environ.get("BILLOPS_SECRET_KEY"):
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("BILLOPS_DEBUG", "") == "1"
ALLOWED_HOSTS = [h for h in os.environ.get("BILLOPS_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
HTTPS = os.environ.get("BILLOPS_HTTPS", "") == "1"
# production mode: the test clock (`billops clock set`) is refused and the real date always applies
PRODUCTION = os.environ.get("BILLOPS_PRODUCTION", "") == "1"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "billops.core",
    "billops.audit",
    "billops.access",
    "billops.ledger",
    "billops.customers",
    "billops.catalog",
    "billops.invoicing",
    "billops.delivery",
    "billops.billing",
    "billops.usage",
    "billops.timekeeping",
    "billops.payments",
    "billops.collections",
    "billops.disputes",
    "billops.web",
    "billops.cli",
    "ninja",  # serves the API docs UI from its own package instead of a CDN
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "billops.audit.middleware.RequestIdMiddleware",
    "billops.access.idempotency.IdempotencyMiddleware",
]

ROOT_URLCONF = "billops.urls"
WSGI_APPLICATION = "billops.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "billops.web.context.navigation",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("BILLOPS_DATABASE_URL", f"sqlite:///{VAR_DIR / 'billops.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead of failing mid-transaction;
    # synchronous=FULL syncs the log at each commit: an issued invoice survives a power cut (NORMAL may
    # lose the last commits)
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "access.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Session security: short-lived, HTTP-only, same-site cookies; secure cookies and HSTS behind HTTPS.
SESSION_COOKIE_AGE = 8 * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = os.environ.get("BILLOPS_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# E-mail (docs/operations.md, "E-mail"): SMTP when BILLOPS_SMTP_URL is set, else the outbox folder.
# smtp://host:25, smtp://user:password@host:587?starttls=1 or smtps://user:password@host:465
# Celery workers (`billops worker`) on this broker run bill-run partitions; empty: all work in-process
CELERY_BROKER_URL = os.environ.get("BILLOPS_BROKER_URL", "")
# customers a bill run bills in one transaction (docs/operations.md, "Running workers")
BILL_RUN_CHUNK_SIZE = int(os.environ.get("BILLOPS_BILL_RUN_CHUNK_SIZE", "250"))
# bank-file lines matched, then posted together (docs/cash-application.md)
BANK_IMPORT_CHUNK_LINES = int(os.environ.get("BILLOPS_BANK_IMPORT_CHUNK_LINES", "1000"))
# days to resolve a dispute: one number, or per reason, e.g. "30,price=10,quality=45" (docs/disputes.md)
BILLOPS_DISPUTE_SLA_DAYS = os.environ.get("BILLOPS_DISPUTE_SLA_DAYS", "30")
# the aging's default bucket limits in days (docs/collections.md)
AGING_BUCKETS = os.environ.get("BILLOPS_AGING_BUCKETS", "30,60,90")
# the credit review holds a customer with an item this many days past due (0: never; docs/collections.md)
CREDIT_HOLD_DAYS_PAST_DUE = int(os.environ.get("BILLOPS_CREDIT_HOLD_DAYS_PAST_DUE", "90"))
# days a payment may come after the promised day and still keep the promise
PROMISE_GRACE_DAYS = int(os.environ.get("BILLOPS_PROMISE_GRACE_DAYS", "3"))


def _hold_factor(text: str) -> Decimal:
    try:
        factor = Decimal(text)
    except InvalidOperation:
        factor = Decimal(-1)
    if not factor.is_finite() or factor < 0:
        raise ImproperlyConfigured(f"BILLOPS_BILL_RUN_HOLD_FACTOR={text!r} is not a number of 0 or more")
    return factor


# a run holds an invoice above this many times the customer's usual total as a draft; 0 holds none
BILL_RUN_HOLD_FACTOR = _hold_factor(os.environ.get("BILLOPS_BILL_RUN_HOLD_FACTOR", "3"))

MAIL_SMTP_URL = os.environ.get("BILLOPS_SMTP_URL", "")
MAIL_FROM = os.environ.get("BILLOPS_MAIL_FROM", "billing@localhost")
MAIL_OUTBOX_DIR = VAR_DIR / "outbox"  # embedded mode: one <message id>.eml per message
MAIL_TIMEOUT_SECONDS = float(os.environ.get("BILLOPS_MAIL_TIMEOUT_SECONDS", "10"))  # per connect and reply

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("BILLOPS_LOG_LEVEL", "WARNING")},
    # the mt-940 library logs a bank line's content (names, IBANs) when its own pattern fails: keep it out
    "loggers": {"mt940": {"level": "CRITICAL"}},
}
