"""Gaitu settings, read from the environment (see the README's configuration table).

All state lives under GAITU_DATA_DIR: the database, media, the task queue and the secret key.
"""

import json
import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, "").strip() or default


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    return value in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


def env_json_object(name: str) -> dict:
    value = os.environ.get(name, "").strip()
    if not value:
        return {}
    try:
        parsed = json.loads(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is not valid JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise ImproperlyConfigured(f'{name} must be a JSON object, like {{"key": "value"}}')
    return parsed


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


DATA_DIR = Path(env_str("GAITU_DATA_DIR", str(BASE_DIR / "data"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _persistent_secret_key() -> str:
    """A key generated once per installation, so sessions survive restarts."""
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


SECRET_KEY = env_str("SECRET_KEY") or _persistent_secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "huey.contrib.djhuey",
    "ninja",  # its static files: the API docs page is served from ours, not a CDN
    "webapp",
    "accounts",
    "editor",
    "worker",
    "live",
    "studio",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "webapp.static_files.StaticFilesMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "webapp.urls"
WSGI_APPLICATION = "webapp.wsgi.application"
ASGI_APPLICATION = "webapp.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "studio.context_processors.gaitu",
            ],
        },
    },
]

# SQLite in WAL mode with IMMEDIATE transactions and a 30 s wait for the write lock (retried
# every millisecond, see webapp/sqlite): the web server and the worker's threads write
# concurrently, and this is what keeps "database is locked" away.
DATABASES = {
    "default": {
        "ENGINE": "webapp.sqlite",  # Django's, with lock waits that end when it is free
        "NAME": DATA_DIR / "gaitu.sqlite3",
        "OPTIONS": {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "studio"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
MEDIA_ROOT = DATA_DIR / "media"
# No MEDIA_URL is routed: every picture goes through a view that checks who may see it.
MEDIA_URL = "/media-not-served/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Uploads above this many bytes go to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 2**20
FILE_UPLOAD_TEMP_DIR = None

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SAMESITE = "Lax"

# Content Security Policy (django.middleware.csp). No inline script or style runs without the
# per-request nonce that templates get as {{ csp_nonce }} / {% csp_nonce_attr %}; htmx is told
# not to inject styles or evaluate code (the htmx-config meta tag in base.html). Views may set
# a stricter header of their own (the picture views do): the middleware keeps an existing one.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    # blob: for the previews of chosen files; data: for small inline images (as in CSS).
    "img-src": [CSP.SELF, "data:", "blob:"],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}

# GAITU_HTTPS=1: the site is reached over HTTPS only, usually through a TLS-terminating reverse
# proxy (nginx, Caddy, Traefik) in front of uvicorn. Cookies are then sent over HTTPS only and
# browsers are told (HSTS) to never use plain HTTP for this host again.
GAITU_HTTPS = env_bool("GAITU_HTTPS", False)
SESSION_COOKIE_SECURE = GAITU_HTTPS
CSRF_COOKIE_SECURE = GAITU_HTTPS
LANGUAGE_COOKIE_SECURE = GAITU_HTTPS
SILENCED_SYSTEM_CHECKS = []
if GAITU_HTTPS:
    SECURE_HSTS_SECONDS = 365 * 24 * 60 * 60
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Preloading is hard to undo (it ships in browsers), so it is a deliberate opt-in.
    SECURE_HSTS_PRELOAD = env_bool("GAITU_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS.append("security.W021")  # preload is opt-in, see above
    # GAITU_SSL_REDIRECT=0 for proxies that already redirect http:// to https:// themselves.
    SECURE_SSL_REDIRECT = env_bool("GAITU_SSL_REDIRECT", True)
    if not SECURE_SSL_REDIRECT:
        SILENCED_SYSTEM_CHECKS.append("security.W008")  # the proxy redirects instead
    # Behind a TLS-terminating proxy, Django itself only ever sees plain HTTP. The proxy says
    # the original scheme in X-Forwarded-Proto; without trusting it, request.is_secure() is
    # False (uvicorn believes the header only from FORWARDED_ALLOW_IPS, 127.0.0.1 by default,
    # so not from a proxy in another container), so SECURE_SSL_REDIRECT would redirect forever,
    # HSTS would never be sent, absolute links (share links) would say http://, and CSRF's
    # Origin check would reject every https:// form post. The proxy MUST set (overwrite) this
    # header on every request, and uvicorn must be reachable only through the proxy (`manage.py
    # serve` binds to 127.0.0.1 by default), or a client could claim HTTPS over plain HTTP.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Gaitu -----------------------------------------------------------------------------------

GAITU_API_BASE = env_str("GAITU_API_BASE")
GAITU_API_KEY = env_str("GAITU_API_KEY")
GAITU_DEMO = not GAITU_API_KEY
GAITU_MODELS = env_list("GAITU_MODELS", "gpt-4o-image")
GAITU_STREAM = env_bool("GAITU_STREAM", True)
GAITU_MAX_TOKENS = env_int("GAITU_MAX_TOKENS", 0) or None
GAITU_IMAGE_DETAIL = env_str("GAITU_IMAGE_DETAIL", "high")
# Extra request fields for this deployment, e.g. {"modalities": ["image", "text"]} for OpenRouter.
GAITU_EXTRA_BODY = env_json_object("GAITU_EXTRA_BODY")
GAITU_SEND_MAX_SIDE = env_int("GAITU_SEND_MAX_SIDE", 2048)
GAITU_UPLOAD_MAX_MB = env_int("GAITU_UPLOAD_MAX_MB", 20)
GAITU_MAX_INPUTS = env_int("GAITU_MAX_INPUTS", 4)
GAITU_MAX_PIXELS = 50_000_000
GAITU_RESULT_MAX_MB = env_int("GAITU_RESULT_MAX_MB", 40)
GAITU_FETCH_ALLOW_HOSTS = env_list("GAITU_FETCH_ALLOW_HOSTS")
GAITU_CONNECT_TIMEOUT = env_float("GAITU_CONNECT_TIMEOUT", 15.0)
GAITU_READ_TIMEOUT = env_float("GAITU_READ_TIMEOUT", 120.0)
GAITU_TOTAL_TIMEOUT = env_float("GAITU_TOTAL_TIMEOUT", 600.0)
GAITU_MAX_ATTEMPTS = max(1, env_int("GAITU_MAX_ATTEMPTS", 3))
GAITU_WORKER_THREADS = env_int("GAITU_WORKER_THREADS", 16)
GAITU_DAILY_LIMIT = env_int("GAITU_DAILY_LIMIT", 0)  # edits per person per day; 0 = unlimited
GAITU_RATE_LIMIT = env_int("GAITU_RATE_LIMIT", 20)  # edits per person per minute; 0 = unlimited
GAITU_SIGNUP = env_str("GAITU_SIGNUP", "closed").lower() == "open"
GAITU_MAX_ACTIVE_PER_USER = max(1, env_int("GAITU_MAX_ACTIVE_PER_USER", 4))
GAITU_HEARTBEAT_TIMEOUT = env_float("GAITU_HEARTBEAT_TIMEOUT", 120.0)
GAITU_DEMO_LATENCY = env_float("GAITU_DEMO_LATENCY", 3.0)

# Whole request bodies: every allowed picture at the per-file limit, plus the form fields.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 2**20
DATA_UPLOAD_MAX_NUMBER_FILES = GAITU_MAX_INPUTS + 1

# --- Background jobs -------------------------------------------------------------------------

TASKS = {"default": {"BACKEND": "huey.contrib.djhuey.tasks_backend.HueyBackend"}}
HUEY_CONSUMER = {
    "workers": GAITU_WORKER_THREADS,
    "worker_type": "thread",
    # Idle threads wait for a nudge (SQLite, worker/queue.py) or block on Redis; these are
    # the pauses after an error reading the queue.
    "initial_delay": 0.05,
    "backoff": 1.25,
    "max_delay": 0.25,
    "periodic": True,
    "check_worker_health": True,
}
GAITU_QUEUE_URL = env_str("GAITU_QUEUE_URL")
if GAITU_QUEUE_URL.startswith(("redis://", "rediss://", "unix://")):
    # Workers on several machines share one Redis queue (pip install redis).
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "gaitu",
        "url": GAITU_QUEUE_URL,
        "blocking": True,
        "immediate": False,
        "results": True,
        "consumer": HUEY_CONSUMER,
    }
elif GAITU_QUEUE_URL:
    raise ImproperlyConfigured("GAITU_QUEUE_URL must be a redis:// URL (or unset for SQLite).")
else:
    HUEY = {
        "huey_class": "worker.queue.NudgedSqliteHuey",  # wakes the worker at once
        "name": "gaitu",
        "filename": str(DATA_DIR / "queue.sqlite3"),
        "immediate": False,
        "results": True,
        "consumer": HUEY_CONSUMER,
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        # httpx logs every request line at INFO; the worker's own lines say what matters.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # The huey consumer installs a handler of its own.
        "huey": {"propagate": False},
    },
}
