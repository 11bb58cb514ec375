"""Static files: served by ServeStatic's async middleware, so the ASGI chain stays async, with
long immutable caching for hashed names and gzip variants made by collectstatic."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.handlers.asgi import ASGIHandler
from django.utils.module_loading import import_string
from servestatic.middleware import ServeStaticMiddleware

ROOT = Path(__file__).resolve().parents[2]
TEN_YEARS = 315_360_000  # what ServeStatic sends for files whose name has their hash


class SyncOnlyMiddleware:
    """A middleware without async support, to show that the check below notices one."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)


def middleware_adapted_by_the_asgi_handler(caplog) -> list[str]:
    """What Django logs (in debug mode) when it wraps a middleware to run it in another mode:
    for a sync-only middleware under ASGI, a thread hop on every request."""
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="django.request"):
        ASGIHandler()  # builds the middleware chain, as uvicorn's first request does
    return [r.getMessage() for r in caplog.records if "adapted for middleware" in r.getMessage()]


def test_static_files_are_served_by_servestatic():
    assert "servestatic.middleware.ServeStaticMiddleware" in django_settings.MIDDLEWARE
    assert ServeStaticMiddleware.async_capable
    assert "servestatic" in django_settings.INSTALLED_APPS  # its checks, and runserver --nostatic


@pytest.mark.parametrize("path", django_settings.MIDDLEWARE)
def test_every_middleware_is_async_capable(path):
    assert getattr(import_string(path), "async_capable", False), path


def test_the_asgi_handler_runs_the_whole_chain_in_the_event_loop(settings, caplog):
    settings.DEBUG = True  # Django says which middleware it adapts only in debug mode
    assert middleware_adapted_by_the_asgi_handler(caplog) == []

    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.SyncOnlyMiddleware"]
    adapted = middleware_adapted_by_the_asgi_handler(caplog)
    assert any(f"middleware {__name__}.SyncOnlyMiddleware" in line for line in adapted)


# --- A real installation, served through webapp.asgi.application ---------------------------

SERVE_STATIC_FILES = """
import asyncio, json, sys
from pathlib import Path

import django
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.templatetags.static import static

call_command("collectstatic", "--noinput", verbosity=0)  # what `make run` does first

import httpx
from webapp.asgi import application


async def main():
    hashed = static("gaitu/gaitu.css")
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        async def get(url, **headers):
            response = await client.get(url, headers=headers)
            return {
                "status": response.status_code,
                "headers": dict(response.headers),
                "size": response.num_bytes_downloaded,
            }

        plain = await get(hashed, **{"Accept-Encoding": "identity"})
        replies = {
            "hashed": plain,
            "hashed_gzip": await get(hashed, **{"Accept-Encoding": "gzip"}),
            "unhashed": await get("/static/gaitu/gaitu.css"),
            "unchanged": await get(hashed, **{"If-None-Match": plain["headers"]["etag"]}),
        }
    root = Path(settings.STATIC_ROOT)
    print(json.dumps({
        "hashed_url": hashed,
        "replies": replies,
        "gaitu_files": sorted(p.name for p in (root / "gaitu").iterdir()),
    }))


asyncio.run(main())
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> dict:
    """collectstatic, then static files requested through the ASGI application, in a fresh
    process with the production settings (the test settings store static files unhashed)."""
    data_dir = tmp_path_factory.mktemp("gaitu-static")
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("GAITU_") and name not in {"DEBUG", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(DJANGO_SETTINGS_MODULE="webapp.settings", GAITU_DATA_DIR=str(data_dir))
    done = subprocess.run(
        [sys.executable, "-c", SERVE_STATIC_FILES],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_collectstatic_writes_hashed_names_and_gzip_variants(served):
    hashed_name = served["hashed_url"].rsplit("/", 1)[1]
    assert hashed_name != "gaitu.css" and hashed_name.startswith("gaitu.")
    assert {hashed_name, f"{hashed_name}.gz", "gaitu.css", "gaitu.css.gz"} <= set(
        served["gaitu_files"]
    )


def test_a_hashed_file_is_cached_for_good(served):
    reply = served["replies"]["hashed"]
    headers = reply["headers"]
    assert reply["status"] == 200
    assert headers["cache-control"] == f"max-age={TEN_YEARS}, public, immutable"
    assert headers["content-type"] == 'text/css; charset="utf-8"'
    assert headers["vary"] == "Accept-Encoding"
    assert headers["access-control-allow-origin"] == "*"
    assert "content-encoding" not in headers
    assert headers["etag"] and headers["last-modified"]
    # SecurityMiddleware runs before ServeStatic, so static files get its headers too.
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["cross-origin-opener-policy"] == "same-origin"


def test_the_gzip_variant_is_sent_to_who_asks_for_it(served):
    plain, gzipped = served["replies"]["hashed"], served["replies"]["hashed_gzip"]
    assert gzipped["status"] == 200
    assert gzipped["headers"]["content-encoding"] == "gzip"
    assert gzipped["headers"]["cache-control"] == plain["headers"]["cache-control"]
    assert gzipped["size"] < plain["size"]


def test_an_unhashed_name_is_cached_briefly(served):
    reply = served["replies"]["unhashed"]
    assert reply["status"] == 200
    assert reply["headers"]["cache-control"] == "max-age=60, public"


def test_an_unchanged_file_is_not_sent_again(served):
    assert served["replies"]["unchanged"]["status"] == 304
