"""Gaitu's own error pages: 404 (a revoked or unknown share link, an unknown edit, sign-up while
it is closed), 403 (a page for the owner only) and 500, in the person's language, with the
design system's style sheet and no navigation of the owner's for a stranger."""

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils import translation

CHINESE = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}
NOT_FOUND = (
    "This link was turned off or never existed. If someone sent it to you, ask them for a new one."
)
OWNER_ONLY = (
    "Only the owner of this Gaitu can open this page. Your account has its own studio and gallery."
)


def in_chinese(text: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(text)


def fails(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


urlpatterns = [path("fails/", fails)]


@pytest.mark.parametrize(
    "address",
    [
        "/s/no-such-share-link",
        f"/edits/{uuid.uuid4()}/",
        "/signup/",  # closed unless GAITU_SIGNUP=open
        "/no/such/page/",
    ],
)
def test_not_found_is_gaitus_page_in_the_persons_language(client, owner, address):
    client.force_login(owner)
    page = client.get(address, **CHINESE)
    assert page.status_code == 404
    assert page.templates[0].name == "404.html"
    assert 'lang="zh-hans"' in page.text
    assert static("gaitu/gaitu.css") in page.text
    assert in_chinese(NOT_FOUND) in page.text
    assert in_chinese("Back to the studio") in page.text


def test_a_stranger_sees_no_navigation_of_the_owners(client, owner):
    page = client.get("/s/no-such-share-link")
    assert page.status_code == 404
    assert NOT_FOUND in page.text
    assert 'class="mainnav"' not in page.text
    assert reverse("gallery") not in page.text and reverse("account") not in page.text
    assert "Go to the start page" in page.text


def test_a_page_for_the_owner_only_says_so(client, db):
    person = get_user_model().objects.create_user("mei", password="a long pass phrase")
    client.force_login(person)
    page = client.get(reverse("people"), **CHINESE)
    assert page.status_code == 403
    assert page.templates[0].name == "403.html"
    assert 'lang="zh-hans"' in page.text
    assert in_chinese(OWNER_ONLY) in page.text


@pytest.mark.urls(__name__)
def test_a_server_error_is_gaitus_page(client, settings):
    client.raise_request_exception = False
    page = client.get("/fails/")
    assert page.status_code == 500
    assert "Something went wrong" in page.text
    assert static("gaitu/gaitu.css") in page.text


def test_the_server_error_page_needs_no_database_and_no_request():
    # No db fixture: any query would fail this test. Django renders it with no context at all.
    with translation.override("zh-hans"):
        html = loader.get_template("500.html").render()
    assert 'lang="zh-hans"' in html
    assert in_chinese("Something went wrong") in html
    assert static("gaitu/gaitu.css") in html
