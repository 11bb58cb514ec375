"""Gaitu's settings plus the probe pages of tests/support/probe_urls.py, for the end-to-end
tests of the web server itself (tests/e2e/test_proxies.py, tests/e2e/test_slow_clients.py).

Start a Gaitu with DJANGO_SETTINGS_MODULE=tests.support.probe_settings, as the benchmarks start
theirs with bench.settings. Nothing of this is in Gaitu itself.
"""

from webapp.settings import *  # noqa: F403

ROOT_URLCONF = "tests.support.probe_urls"
# With GAITU_HTTPS=1 the probes answer plain HTTP too, to say what they were told.
SECURE_REDIRECT_EXEMPT = [r"^probe/"]
