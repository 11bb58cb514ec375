"""Settings for the test suite: a throwaway data folder, demo gateway, jobs run in-process."""

import os
import tempfile

# Never let a developer's real gateway or key leak into a test run.
for name in list(os.environ):
    if name.startswith("GAITU_") or name in {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"}:
        del os.environ[name]
os.environ["GAITU_DATA_DIR"] = tempfile.mkdtemp(prefix="gaitu-test-")
os.environ["GAITU_DEMO_LATENCY"] = "0.2"

from webapp.settings import *  # noqa: E402, F403
from webapp.settings import HUEY  # noqa: E402

ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Jobs run synchronously when enqueued; the real consumer is covered by the end-to-end tests.
HUEY = {**HUEY, "immediate": True}
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405 (WhiteNoise looks for it)
GAITU_MAX_ATTEMPTS = 1  # tests that are about retrying ask for more
