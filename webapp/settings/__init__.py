"""Gaitu's settings (DJANGO_SETTINGS_MODULE=webapp.settings), read from the environment.

The parts, in the order they build on each other:

- env.py: how the environment is read: one typed reader, with Gaitu's rules.
- gaitu.py: every setting that comes from the environment, with its type and default.
- base.py: Django itself: apps, middleware, database, static files, languages, logging.
- security.py: cookies, protective headers, the Content Security Policy, HTTPS.
- queue.py: background jobs (huey).

test.py holds the test suite's settings (DJANGO_SETTINGS_MODULE=webapp.settings.test).
"""

import os

from webapp.settings.env import clean_environment_for_tests

# Python imports this package before webapp/settings/test.py, so the test suite's clean
# environment is made here, before the parts below read anything.
if os.environ.get("DJANGO_SETTINGS_MODULE") == "webapp.settings.test":
    clean_environment_for_tests()

# In the order they build on each other, not by name.
# isort: off
from webapp.settings.gaitu import *  # noqa: F403
from webapp.settings.base import *  # noqa: F403
from webapp.settings.security import *  # noqa: F403
from webapp.settings.queue import *  # noqa: F403
# isort: on
