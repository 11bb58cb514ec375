"""The installable app in real headless Chromium against a running Gaitu: the service worker
registers, keeps the app shell and nothing else (not after pictures, shared pages and API
answers were seen), stands in with the offline page, and takes pictures shared to Gaitu to the
studio's upload form; without a worker the share target only redirects (see studio_browser.py
for the shared set-up)."""

import io
import json
import re
from urllib.parse import urlsplit

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.support.studio_browser import (  # noqa: F401 (fixtures are found by name)
    api_edit,
    browser,
    chosen_names,
    contexts,
    expect_loaded,
    expect_succeeded,
    live,
    newest_card,
    png,
    preview_names,
    reload_studio,
    sign_in,
    specs,
    submit,
)

SHELL_LINE = re.compile(r"^const SHELL = (.+);$", re.MULTILINE)

# Posts files to the share target the way a phone's share sheet does: a multipart form, with
# no CSRF token, as a navigation.
SHARE_JS = """(specs) => {
  const form = document.createElement("form");
  form.method = "post";
  form.action = "/share-target/";
  form.enctype = "multipart/form-data";
  const input = document.createElement("input");
  input.type = "file";
  input.name = "images";
  input.multiple = true;
  input.files = gaituTransfer(specs).files;
  form.append(input);
  document.body.append(form);
  form.submit();
}"""


def controlled(page) -> None:
    """Wait until the service worker is active and controls the page."""
    state = page.evaluate("() => navigator.serviceWorker.ready.then((r) => r.active.state)")
    assert state in ("activating", "activated")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")


def cached_urls(page) -> dict[str, list[str]]:
    return page.evaluate(
        """async () => {
          const kept = {};
          for (const name of await caches.keys()) {
            const cache = await caches.open(name);
            kept[name] = (await cache.keys()).map((request) => request.url);
          }
          return kept;
        }"""
    )


def inbox(page) -> int:
    """How many shared files wait in the service worker's inbox."""
    return page.evaluate(
        """() => new Promise((resolve) => {
          const opening = indexedDB.open("gaitu-share-inbox", 1);
          opening.onupgradeneeded = () =>
            opening.result.createObjectStore("files", { autoIncrement: true });
          opening.onsuccess = () => {
            const db = opening.result;
            const counting = db.transaction("files").objectStore("files").count();
            counting.onsuccess = () => { db.close(); resolve(counting.result); };
          };
        })"""
    )


@pytest.mark.browser
def test_the_service_worker_keeps_the_app_shell_and_nothing_else(sign_in, live):
    page, client = sign_in("installer")
    controlled(page)
    shell = json.loads(SHELL_LINE.search(page.request.get(f"{live.url}/sw.js").text()).group(1))

    # A person's pages, pictures and API answers, all seen with the worker in control.
    edit = api_edit(client, "brighter lake")
    reload_studio(page)
    expect_succeeded(newest_card(page, "brighter lake"))
    page.goto(f"{live.url}/edits/{edit['id']}/")
    expect_loaded(page.locator("img[data-result]").first)
    for kind in ("source", "result"):
        for variant in ("full", "display", "thumb"):
            assert page.goto(f"{live.url}/media/{edit['id']}/{kind}/0/{variant}").ok
    link = client.post(f"/api/v1/edits/{edit['id']}/share").json()["url"]
    assert page.goto(link).ok
    expect_loaded(page.locator("img[data-after]"))
    page.goto(f"{live.url}/api/v1/edits")  # the session is no API token: a 401 answer
    page.goto(f"{live.url}/gallery/")
    page.wait_for_load_state("networkidle")

    kept = cached_urls(page)
    assert len(kept) == 1, kept  # one cache: this release's shell
    [(name, urls)] = kept.items()
    assert re.fullmatch(r"gaitu-shell-[0-9a-f]{12}", name)
    paths = sorted(urlsplit(url).path for url in urls)
    assert paths == sorted(shell)
    hashed = [path for path in paths if path != "/offline/"]
    assert all(re.match(r"/static/.+\.[0-9a-f]{12}\.\w+$", path) for path in hashed), hashed
    for private in ("/media/", "/s/", "/api/", "/edits/", "/gallery/"):
        assert not any(private in path for path in paths), (private, paths)
    assert "/" not in paths


@pytest.mark.browser
def test_a_new_worker_deletes_the_old_shell_caches(sign_in, live):
    page, _client = sign_in("upgrader")
    controlled(page)
    [current] = cached_urls(page)
    page.evaluate(
        """async () => {
          const stale = await caches.open("gaitu-shell-0123456789ab");
          await stale.put("/static/old.css", new Response(""));
          await caches.open("another-apps-cache");
        }"""
    )
    # A worker from another URL is a new one (as a new release's is): it installs and activates.
    page.evaluate(
        """async () => {
          const found = await navigator.serviceWorker.register("/sw.js?release=2");
          window.gaituWorker = found.installing || found.waiting || found.active;
        }"""
    )
    page.wait_for_function("() => window.gaituWorker.state === 'activated'")
    assert sorted(cached_urls(page)) == sorted([current, "another-apps-cache"])


@pytest.mark.browser
def test_without_a_network_the_offline_page_stands_in(sign_in, live):
    page, _client = sign_in("traveller")
    controlled(page)
    page.context.set_offline(True)
    page.goto(f"{live.url}/gallery/")
    expect(page.locator("[data-offline] h1")).to_have_text("No connection")
    expect(page.locator("[data-offline] [lang=zh-hans]")).to_be_visible()
    page.context.set_offline(False)
    page.locator("[data-offline] a.button").click()
    expect(page.locator("#upload-form")).to_be_visible()


@pytest.mark.browser
def test_a_picture_shared_to_gaitu_opens_in_the_studio_ready_to_edit(sign_in, live):
    page, client = sign_in("sharer-phone")
    controlled(page)
    page.evaluate(SHARE_JS, specs(png("from-gallery.png", (120, 90))))
    expect(page.locator("[data-previews] li img")).to_have_count(1)
    assert preview_names(page) == ["from-gallery.png"]
    assert chosen_names(page) == ["from-gallery.png"]
    assert urlsplit(page.url).path == "/" and "shared" not in page.url
    assert inbox(page) == 0  # taken once: a reload does not bring it back
    expect(page.locator(".flash")).to_have_count(0)  # the worker took it, not the server

    submit(page, "make it a watercolour")
    expect_succeeded(newest_card(page, "make it a watercolour"))
    [edit] = client.get("/api/v1/edits").json()["results"]
    assert edit["instruction"] == "make it a watercolour"
    [source] = edit["sources"]
    with Image.open(io.BytesIO(client.get(source["url"]).content)) as sent:
        assert sent.size == (120, 90)  # the picture that was shared


@pytest.mark.browser
def test_a_share_before_the_worker_is_there_asks_to_share_again(sign_in, live):
    page, client = sign_in("first-share", service_workers="block")
    page.evaluate(SHARE_JS, specs(png("too-early.png")))
    expect(page.locator(".flash")).to_contain_text("share the picture again")
    assert urlsplit(page.url).path == "/"
    expect(page.locator("[data-previews] li")).to_have_count(0)
    assert client.get("/api/v1/edits").json()["count"] == 0
