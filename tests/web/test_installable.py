"""The installable app: the web app manifest and its icons, the service worker's script and
headers, the offline page, and the share target's answer when no service worker took it."""

import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.test import Client
from django.urls import reverse
from PIL import Image

from editor.models import Edit, SourceImage
from studio.views.installable import SHELL_FILES
from tests.support.factories import image_bytes, upload


@pytest.fixture
def visitor(db):
    return Client(enforce_csrf_checks=True)


def manifest(client: Client, **headers) -> dict:
    response = client.get(reverse("manifest"), **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    return json.loads(response.content)


def static_file(url: str) -> str:
    """The file a static URL names (the test settings' URLs carry no hash)."""
    name = url.removeprefix("/static/")
    found = finders.find(name)
    assert isinstance(found, str), f"{url} is not a static file"
    return found


def test_the_manifest_describes_an_installable_app(visitor):
    app = manifest(visitor)  # asked for without cookies, as browsers do
    assert app["name"] == "改图 Gaitu"
    assert app["short_name"] == "Gaitu"
    assert app["start_url"] == "/" and app["scope"] == "/"
    assert app["display"] == "standalone"
    assert re.fullmatch(r"#[0-9a-f]{6}", app["theme_color"])
    assert re.fullmatch(r"#[0-9a-f]{6}", app["background_color"])
    assert app["lang"] == "en" and app["dir"] == "ltr"
    assert app["description"]


def test_the_manifest_follows_the_visitors_language(visitor):
    app = manifest(visitor, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert app["lang"] == "zh-hans"
    assert app["name"] == "改图 Gaitu"


def test_the_manifests_icons_are_there_at_their_sizes(visitor):
    icons = manifest(visitor)["icons"]
    pngs = {(icon["sizes"], icon["purpose"]) for icon in icons if icon["type"] == "image/png"}
    assert pngs == {
        ("192x192", "any"),
        ("512x512", "any"),
        ("192x192", "maskable"),
        ("512x512", "maskable"),
    }
    for icon in icons:
        path = static_file(icon["src"])
        if icon["type"] == "image/png":
            with Image.open(path) as picture:
                assert picture.format == "PNG"
                assert f"{picture.width}x{picture.height}" == icon["sizes"]
        else:
            assert icon["type"] == "image/svg+xml" and icon["sizes"] == "any"
            with open(path) as svg:
                assert svg.read().startswith("<svg")
    # A maskable icon fills its square: its corners are not transparent.
    maskable = next(icon for icon in icons if icon.get("purpose") == "maskable")
    with Image.open(static_file(maskable["src"])) as picture:
        assert picture.convert("RGBA").getpixel((0, 0))[3] == 255


def test_the_manifest_declares_a_share_target_for_pictures(visitor):
    target = manifest(visitor)["share_target"]
    assert target["action"] == reverse("share_target")
    assert target["method"] == "POST"
    assert target["enctype"] == "multipart/form-data"
    assert target["params"]["files"] == [{"name": "images", "accept": ["image/*"]}]


def test_every_page_links_the_manifest_the_icon_and_the_worker(visitor, owner_client):
    for page in (visitor.get(reverse("login")), owner_client.get(reverse("studio"))):
        assert page.status_code == 200
        assert f'<link rel="manifest" href="{reverse("manifest")}">' in page.text
        assert static("gaitu/icons/apple-touch-icon.png") in page.text
        assert f'data-service-worker="{reverse("service_worker")}"' in page.text
        assert static("gaitu/share-target.js") in page.text
        assert '<meta name="theme-color"' in page.text


def test_the_service_worker_is_served_from_the_root_and_never_kept_stale(visitor):
    response = visitor.get("/sw.js")
    assert reverse("service_worker") == "/sw.js"
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Cache-Control"] == "no-cache"
    assert response["Service-Worker-Allowed"] == "/"


def worker_constant(script: str, name: str):
    match = re.search(rf"^const {name} = (.+);$", script, re.MULTILINE)
    assert match, f"{name} is not in the service worker"
    return match.group(1)


def test_the_service_worker_keeps_the_shell_only(visitor):
    script = visitor.get("/sw.js").text
    shell = json.loads(worker_constant(script, "SHELL"))
    assert shell == [static(name) for name in SHELL_FILES] + [reverse("offline")]
    for url in shell:
        assert url.startswith("/static/") or url == reverse("offline"), url
        if url.startswith("/static/"):
            static_file(url)  # each is a file the app ships
    for private in ("/media/", "/s/", "/api/"):
        assert not any(private in url for url in shell)
    assert "/" not in shell  # the studio is a person's page
    # The cache is named after the shell's URLs; the old ones are deleted on activation.
    assert re.fullmatch(r'"gaitu-shell-[0-9a-f]{12}"', worker_constant(script, "SHELL_CACHE"))
    assert "caches.delete" in script


def test_the_service_workers_cache_changes_with_the_shell(visitor, settings):
    first = worker_constant(visitor.get("/sw.js").text, "SHELL_CACHE")
    settings.STATIC_URL = "/assets/"  # every shell URL changes, as new hashes would
    second = worker_constant(visitor.get("/sw.js").text, "SHELL_CACHE")
    assert first != second


def test_the_offline_page_is_public_and_in_both_languages(visitor):
    response = visitor.get(reverse("offline"))
    assert response.status_code == 200
    assert 'lang="en"' in response.text and 'lang="zh-hans"' in response.text
    assert "No connection" in response.text
    # Nothing of a person's: the service worker keeps it for whoever uses the browser next.
    assert "csrfmiddlewaretoken" not in response.text


def share_post(client: Client):
    return client.post(
        reverse("share_target"),
        {"images": [upload("shared.png", image_bytes((64, 48), "PNG"), "image/png")]},
    )


def test_without_a_worker_the_share_target_redirects_and_keeps_nothing(visitor, media_root):
    response = share_post(visitor)  # no CSRF token: a share sheet has none
    assert response.status_code == 303
    assert response["Location"] == reverse("studio")
    assert not Edit.objects.exists() and not SourceImage.objects.exists()
    assert not media_root.exists() or not any(media_root.rglob("*.*"))


def test_the_studio_then_asks_to_share_again(owner, media_root):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    studio = client.get(reverse("studio"))  # the app opened: the worker would register now
    assert studio.status_code == 200
    response = share_post(client)
    assert response.status_code == 303
    page = client.get(response["Location"])
    assert "share the picture again" in page.text
    assert not Edit.objects.exists()
    assert not media_root.exists() or not any(media_root.rglob("*.*"))


def test_the_share_target_sends_a_get_to_the_studio(visitor):
    response = visitor.get(reverse("share_target"))
    assert response.status_code == 303
    assert response["Location"] == reverse("studio")
