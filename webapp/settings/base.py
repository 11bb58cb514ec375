"""Django itself: apps, middleware, templates, database, languages, files, logging."""

from django.utils.translation import gettext_lazy as _

from webapp.settings.gaitu import (
    BASE_DIR,
    DATA_DIR,
    DATABASE_URL,
    GAITU_BATCH_MAX,
    GAITU_MAX_INPUTS,
)
from webapp.settings.scale import database_from_url, picture_storage

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    # Two-factor sign-in: authenticator apps (TOTP) and one-use recovery codes (static).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # ServeStatic's checks, and a runserver that leaves static files to its middleware.
    "servestatic",
    "django.contrib.staticfiles",
    "django.forms",  # the widgets' templates, for FORM_RENDERER below
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
    "exports",
    "instructions",
    "webhooks",
    "providers",
]

# Every middleware here is async-capable, so under uvicorn (ASGI) a request goes through the
# chain in the event loop; a single sync-only one would make Django run the chain in a thread
# and hop back for the async views (the live updates), on every request.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files are answered here, before the session, CSP and other middleware run. Files
    # are indexed at start-up, so finding one is a dictionary lookup in the event loop.
    "servestatic.middleware.ServeStaticMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): gave a second factor
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "accounts.middleware.TwoFactorRequiredMiddleware",  # GAITU_REQUIRE_2FA
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # A body over its limit is answered 413 unread; last, as its answer uses the ones above.
    "webapp.request_limits.RequestLimitMiddleware",
]

# Forms are drawn by templates/forms/ (labels without colons, help text under the field,
# errors next to it), through the project's TEMPLATES.
FORM_RENDERER = "webapp.forms.GaituFormRenderer"

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
SQLITE_DATABASE = {
    "ENGINE": "webapp.sqlite",  # Django's, with lock waits that end when it is free
    "NAME": DATA_DIR / "gaitu.sqlite3",
    "OPTIONS": {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    },
}
DATABASES = {"default": database_from_url(DATABASE_URL) if DATABASE_URL else SQLITE_DATABASE}
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
# django-otp: accounts/throttle.py limits wrong codes per account and browser, so the devices'
# own growing delays (which would make the right person wait too) are off.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
OTP_TOTP_ISSUER = "Gaitu"  # the name authenticator apps show
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the admin never shows a person's secret

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
MEDIA_ROOT = DATA_DIR / "media"
# No MEDIA_URL is routed: every picture goes through a view that checks who may see it.
MEDIA_URL = "/media-not-served/"
STORAGES = {
    # Pictures: in the data folder, or in an S3 bucket shared by every machine (storage.py).
    "default": picture_storage(),
    # collectstatic writes each file under a name with its content's hash (cached for good by
    # browsers: ServeStatic sends "immutable" for those) and a gzip copy next to it.
    "staticfiles": {"BACKEND": "servestatic.storage.CompressedManifestStaticFilesStorage"},
}

# Uploads above this many bytes go to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 2**20
FILE_UPLOAD_TEMP_DIR = None
# A request's form fields, its files not counted (Django's own check). The whole body is
# limited before it is read, to what an edit can need (webapp/request_limits.py).
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 2**20
DATA_UPLOAD_MAX_NUMBER_FILES = max(GAITU_MAX_INPUTS, GAITU_BATCH_MAX) + 1

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
