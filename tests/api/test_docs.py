"""The interactive API docs (/api/v1/docs): public, made of our own static files, under the
site's strict Content Security Policy. The browser test renders them in real Chromium."""

import re

import httpx
import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from playwright.sync_api import expect

from tests.support.browser import browser as browser
from tests.support.live import split_gaitu
from tests.support.studio_browser import VIOLATIONS_JS
from tests.web.test_security_headers import csp_directives, page_nonce, tags_of

DOCS_URL = "/api/v1/docs"


def test_the_docs_page_is_public_and_serves_our_own_static_files(client, db):
    response = client.get(DOCS_URL)  # no session, no token
    assert response.status_code == 200
    assert reverse("api_docs") == DOCS_URL
    tags = tags_of(response.text)
    scripts = [attrs["src"] for tag, attrs in tags if tag == "script" and attrs.get("src")]
    styles = [
        attrs["href"] for tag, attrs in tags if tag == "link" and attrs.get("rel") == "stylesheet"
    ]
    assert scripts == ["/static/ninja/swagger-ui-bundle.js", "/static/ninja/swagger-ui-init.js"]
    assert styles == ["/static/ninja/swagger-ui.css", "/static/gaitu/api-docs.css"]
    for url in scripts + styles:
        assert finders.find(url.removeprefix("/static/")), f"{url} is not among our static files"
    assert not re.search(r"(src|href)=\"(https?:)?//", response.text), "nothing from elsewhere"
    assert "cdn" not in response.text.lower()


def without_nonce(directives: dict[str, list[str]]) -> dict[str, list[str]]:
    return {
        name: ["'nonce'" if value.startswith("'nonce-") else value for value in values]
        for name, values in directives.items()
    }


def test_the_docs_page_keeps_to_the_sites_policy(client, owner):
    response = client.get(DOCS_URL)
    directives = csp_directives(response)
    assert directives["script-src"] == ["'self'", f"'nonce-{page_nonce(response)}'"]
    assert directives["style-src"] == ["'self'", f"'nonce-{page_nonce(response)}'"]
    site = csp_directives(client.get(reverse("login")))
    assert without_nonce(directives) == without_nonce(site)  # the same policy, not a looser one
    for tag, attrs in tags_of(response.text):
        assert "style" not in attrs, tag
        assert not [name for name in attrs if name.startswith("on")], tag
        if tag == "script":
            assert attrs.get("nonce") == page_nonce(response)
    assert response["X-Frame-Options"] == "DENY"


def test_the_document_the_page_reads(client, db):
    response = client.get(DOCS_URL)
    settings = re.search(r'id="swagger-settings"[^>]*>(.*?)</script>', response.text, re.S)
    assert '"url": "/api/v1/openapi.json"' in settings.group(1)
    assert client.get("/api/v1/openapi.json").status_code == 200


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """Production settings: hashed, compressed static files, served as in a deployment."""
    with split_gaitu(tmp_path_factory.mktemp("docs"), with_worker=False) as gaitu:
        yield gaitu


@pytest.mark.browser
def test_the_docs_work_in_a_browser_within_the_policy(live, browser):
    token = live.api().headers["Authorization"].removeprefix("Bearer ")
    context = browser.new_context()
    violations, complaints, elsewhere = [], [], []
    context.expose_binding("gaituViolation", lambda _source, report: violations.append(report))
    context.add_init_script(VIOLATIONS_JS)
    context.on(
        "console",
        lambda message: message.type in ("error", "warning") and complaints.append(message.text),
    )
    context.on(
        "request",
        lambda request: request.url.startswith(live.url) or elsewhere.append(request.url),
    )
    page = context.new_page()
    page.goto(f"{live.url}{DOCS_URL}")

    operations = page.locator(".opblock")
    expect(operations).to_have_count(28)  # every operation of the document (test_openapi.py)
    expect(page.locator(".opblock-summary-path").first).to_have_text("/api/v1/edits")

    page.locator(".btn.authorize").click()
    page.locator(".auth-container input").fill(token)
    page.locator(".auth-btn-wrapper .authorize").click()
    page.locator(".btn-done").click()

    models = page.locator("#operations-models-list_models")
    models.locator(".opblock-summary").click()
    models.locator(".try-out__btn").click()
    models.locator(".execute").click()
    answer = models.locator(".live-responses-table tr.response .response-col_status")
    expect(answer).to_have_text("200")
    expect(models.locator(".live-responses-table .microlight").first).to_contain_text(
        '"default": "gpt-4o-image"'
    )

    assert violations == []
    assert complaints == []
    assert elsewhere == []  # no CDN, no validator badge, nothing but this server
    context.close()


def test_static_files_are_served_by_a_real_server(live):
    """The page's static files, under their hashed production names."""
    page = httpx.get(f"{live.url}{DOCS_URL}").text
    for path in re.findall(r'(?:src|href)="(/static/ninja/[^"]+)"', page):
        assert re.search(r"\.[0-9a-f]{12}\.(js|css|svg)$", path), path
        assert httpx.get(f"{live.url}{path}").status_code == 200
