"""Django settings, read from SITROOM_* environment variables (listed in .env.example).

Production is the default: DEBUG is off unless SITROOM_DEBUG says otherwise, and a site
served over HTTPS sets SITROOM_HTTPS=true to get secure cookies, HSTS and the redirect.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
REPO_DIR = BASE_DIR.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env(name: str, default: str = "") -> str:
    """A setting's raw text; SITROOM_X_FILE names a file holding it (for secrets)."""
    file_name = os.environ.get(f"SITROOM_{name}_FILE")
    if file_name:
        return Path(file_name).read_text(encoding="utf-8").strip()
    return os.environ.get(f"SITROOM_{name}", default)


def env_bool(name: str, default: bool) -> bool:
    raw = env(name, "true" if default else "false").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ImproperlyConfigured(f"SITROOM_{name}: expected true or false, got {raw!r}")


def env_float(name: str, default: float) -> float:
    raw = env(name, str(default))
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"SITROOM_{name}: expected a number, got {raw!r}") from None


def env_list(name: str, default: str) -> list[str]:
    return [part.strip() for part in env(name, default).split(",") if part.strip()]


SITROOM_HOME = Path(env("HOME", str(REPO_DIR / "var"))).resolve()
SITROOM_HOME.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)


def _secret_key() -> str:
    """The configured key, or one generated once and kept under SITROOM_HOME."""
    configured = env("SECRET_KEY")
    if configured:
        return configured
    key_file = SITROOM_HOME / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(64), encoding="utf-8")
        key_file.chmod(0o600)
    return key_file.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

HTTPS = env_bool("HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = int(env("SESSION_HOURS", "12")) * 3600

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "sitroom.core",
    "sitroom.accounts",
    "sitroom.incidents",
    "sitroom.lifelines",
    "sitroom.forces",
    "sitroom.reports",
    "sitroom.web",
    "sitroom.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Before the CSRF check, which would read the body of a too-large upload.
    "sitroom.core.uploads.UploadLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "sitroom.urls"
ASGI_APPLICATION = "sitroom.asgi.application"
WSGI_APPLICATION = "sitroom.wsgi.application"

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
                "sitroom.web.context.sitroom",
            ],
        },
    }
]

DATABASE_URL = env("DATABASE_URL")
SQLITE_OPTIONS = {
    # Writers take the lock at BEGIN, so a read-then-write transaction (the journal's
    # hash chain) never fails half-way with "database is locked".
    "transaction_mode": "IMMEDIATE",
    "timeout": 30,
    "init_command": (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
        "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000; "
        # Pages are read through a memory map, not a system call each: reads that jump
        # around a large table (an export in time order) run about a third faster.
        "PRAGMA mmap_size=1073741824;"
    ),
}
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    _engine = DATABASES["default"]["ENGINE"]
    if _engine == "django.db.backends.sqlite3":
        DATABASES["default"].update(OPTIONS=SQLITE_OPTIONS, CONN_MAX_AGE=0)
    elif _engine == "django.db.backends.postgresql":
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    else:
        raise ImproperlyConfigured(
            "SITROOM_DATABASE_URL: expected a postgres:// or sqlite:/// URL")
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": SITROOM_HOME / "sitroom.sqlite3",
            "OPTIONS": SQLITE_OPTIONS,
            "TEST": {"NAME": str(SITROOM_HOME / "test-sitroom.sqlite3")},
        }
    }
USING_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:cop"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = env("LANGUAGE", "en")
LANGUAGES = [("en", _("English")), ("ru", _("Russian")), ("kk", _("Kazakh"))]
FORMAT_MODULE_PATH = ["sitroom.formats"]  # Kazakh number formats (sitroom/formats/kk)
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env("TIME_ZONE", "Asia/Almaty")

STATIC_URL = "static/"
STATIC_ROOT = SITROOM_HOME / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [
    # Front-end libraries come from npm (package-lock.json), installed by the set-up command.
    ("vendor/leaflet", REPO_DIR / "node_modules" / "leaflet" / "dist"),
    ("vendor/htmx", REPO_DIR / "node_modules" / "htmx.org" / "dist"),
]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Map: no tile server by default (works offline); a connected site may name one.
MAP_TILE_URL = env("MAP_TILE_URL", "")
MAP_TILE_ATTRIBUTION = env("MAP_TILE_ATTRIBUTION", "")
# Where `sitroom demo` looks for boundary polygons (third-party data, not shipped).
BOUNDARIES_DIR = Path(env("BOUNDARIES_DIR", str(REPO_DIR.parent / "shared" / "scenario" / "geo")))
# Documents attached to reports (photos, scans, decrees): kept by their SHA-256, never
# changed or removed (core/filestore.py); the largest file taken.
DOCUMENTS_DIR = Path(env("DOCUMENTS_DIR", str(SITROOM_HOME / "documents")))
DOCUMENT_MAX_MB = env_float("DOCUMENT_MAX_MB", 50.0)
# Live stream: how often a server process checks the journal for entries written by
# another process (SQLite has no cross-process notification; PostgreSQL has NOTIFY and
# uses this only as a safety net).
LIVE_POLL_SECONDS = env_float("LIVE_POLL_SECONDS", 5.0 if USING_POSTGRES else 0.5)
LIVE_HEARTBEAT_SECONDS = env_float("LIVE_HEARTBEAT_SECONDS", 15.0)
API_PAGE_SIZE_MAX = 500
# Lifelines board: a cell whose newest report is older than this is shown as stale, never
# silently as its old colour; and how an area's status is rolled up from the areas inside.
LIFELINE_FRESH_HOURS = env_float("LIFELINE_FRESH_HOURS", 24.0)
# `sitroom demo` runs the withdrawal planner once on the demo force, for this long at most.
DEMO_PLAN_SECONDS = env_float("DEMO_PLAN_SECONDS", 20.0)
LIFELINE_ROLLUP = env("LIFELINE_ROLLUP", "worst")
if LIFELINE_ROLLUP not in ("worst", "majority"):
    raise ImproperlyConfigured("SITROOM_LIFELINE_ROLLUP: expected worst or majority")
# How the board as of a moment finds each cell's report then on PostgreSQL: "periods"
# (one look-up of the known periods holding the moment, lifelines.KnownPeriod), "probes"
# (one index probe per cell) or "auto": periods for boards of LIFELINE_PERIODS_FROM_CELLS
# cells or more, probes otherwise. SQLite keeps no periods and always probes (in process,
# fast enough).
LIFELINE_AS_OF_READ = env("LIFELINE_AS_OF_READ", "auto")
if LIFELINE_AS_OF_READ not in ("auto", "periods", "probes"):
    raise ImproperlyConfigured("SITROOM_LIFELINE_AS_OF_READ: expected auto, periods or probes")
LIFELINE_PERIODS_FROM_CELLS = 2000

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
