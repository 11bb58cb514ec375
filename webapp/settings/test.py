"""Settings for the test suite: a throwaway data folder, demo gateway, jobs run in-process.

Before any setting is read, the environment loses every GAITU_* variable, SECRET_KEY, DEBUG
and ALLOWED_HOSTS, and gets a fresh GAITU_DATA_DIR: webapp/settings/__init__.py does that
(env.clean_environment_for_tests) when DJANGO_SETTINGS_MODULE names this module, because the
package is imported, and its settings read, before this module runs.
"""

import os

from django.core.exceptions import ImproperlyConfigured

if os.environ.get("DJANGO_SETTINGS_MODULE") != __name__:
    # Imported some other way, the settings below would have read the developer's own
    # environment: their gateway, key and data folder.
    raise ImproperlyConfigured(f"Load the test settings with DJANGO_SETTINGS_MODULE={__name__}.")

from webapp.settings import *  # noqa: F403
from webapp.settings import HUEY, STATIC_ROOT, STORAGES

ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": STORAGES["default"],  # the data folder, or the scale-out profile's bucket
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Jobs run synchronously when enqueued; the real consumer is covered by the end-to-end tests.
HUEY = {**HUEY, "immediate": True}
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # ServeStatic indexes it at start-up
GAITU_MAX_ATTEMPTS = 1  # tests that are about retrying ask for more
# The free-space floor is about the machine, not the code: tests that are about it set it.
GAITU_MIN_FREE_MB = 0
