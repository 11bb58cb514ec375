"""The design system, the header, the form pages and the error pages in a real Chromium, at a
phone's size and a desktop's, in both colour schemes and both languages: the tokens' contrast,
a focus ring that reads as focus, our own select and file button, a one-row header with the
account menu, forms drawn by templates/forms/, Gaitu's 404 and 403 pages, and the account
page's Copy button and question before revoking a token."""

import itertools
import re

import pytest
from django.utils import translation
from playwright.sync_api import expect

from tests.support.accessibility import add_axe, assert_accessible
from tests.support.browser import browser as browser  # a fixture, found by name
from tests.support.browser import log_in
from tests.support.live import PASSWORD, running_gaitu

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
FORM_PAGES = ["/login/", "/people/", "/account/password/", "/account/two-factor/"]
HEADER_MAX = 57  # px: --header-height (3.5rem) and its border
LOCALES = {"en": "en-US", "zh-hans": "zh-CN"}
NOT_FOUND = (
    "This link was turned off or never existed. If someone sent it to you, ask them for a new one."
)
OWNER_ONLY = (
    "Only the owner of this Gaitu can open this page. Your account has its own studio and gallery."
)
# Token pairs that carry text (4.5:1) or draw a control's edge or the focus ring (3:1).
TEXT_PAIRS = [
    ("--fg", "--bg"), ("--fg", "--card"), ("--fg", "--surface-2"),
    ("--muted", "--bg"), ("--muted", "--card"), ("--muted", "--surface-2"),
    ("--accent", "--bg"), ("--accent", "--card"), ("--accent-fg", "--accent"),
    ("--bad", "--card"), ("--bad-fg", "--bad"), ("--ok", "--card"), ("--warn", "--card"),
]  # fmt: skip
EDGE_PAIRS = [("--focus", "--bg"), ("--focus", "--card"), ("--line-strong", "--card")]
TOKENS_JS = """(names) => {
  const style = getComputedStyle(document.documentElement);
  return Object.fromEntries(names.map((name) => [name, style.getPropertyValue(name).trim()]));
}"""


def in_language(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with running_gaitu(tmp_path_factory.mktemp("design")) as gaitu:
        gaitu.manage("createsuperuser", "--noinput", "--username", "mei",
                     "--email", "mei@example.com", DJANGO_SUPERUSER_PASSWORD=PASSWORD)  # fmt: skip
        gaitu.manage(
            "shell", "-c",
            "from django.contrib.auth.models import User;"
            f"User.objects.create_user('lin', password={PASSWORD!r})",
        )  # fmt: skip
        yield gaitu


@pytest.fixture
def open_page(browser, live):
    """A page in a context of its own (axe-core loaded), signed in as `user` if one is given.
    JavaScript errors on any of them fail the test."""
    contexts, errors = [], []

    def open_page(user=None, viewport=DESKTOP, language="en", scheme="light", **options):
        context = browser.new_context(
            viewport=viewport, locale=LOCALES[language], color_scheme=scheme, **options
        )
        contexts.append(context)
        add_axe(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        if user:
            log_in(page, live.url, user, PASSWORD)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert errors == []


def contrast(first: str, second: str) -> float:
    def luminance(colour: str) -> float:
        colour = colour.lstrip("#")
        if len(colour) == 3:
            colour = "".join(c * 2 for c in colour)
        channels = [int(colour[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted([luminance(first), luminance(second)], reverse=True)
    return (light + 0.05) / (dark + 0.05)


def rgb(css: str) -> tuple[int, ...]:
    return tuple(int(float(n)) for n in re.findall(r"[\d.]+", css)[:3])


def box(locator) -> dict:
    found = locator.bounding_box()
    assert found is not None, f"{locator} is not shown"
    return found


# ---- The design system ----------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_colour_tokens_meet_wcag_aa_and_focus_is_blue(open_page, live, scheme):
    page = open_page(scheme=scheme)
    page.goto(f"{live.url}/login/")
    names = sorted({name for pair in TEXT_PAIRS + EDGE_PAIRS for name in pair})
    tokens = page.evaluate(TOKENS_JS, names)
    assert all(re.fullmatch(r"#[0-9a-f]{3,6}", value) for value in tokens.values()), tokens
    for pairs, needed in ((TEXT_PAIRS, 4.5), (EDGE_PAIRS, 3)):
        for fore, back in pairs:
            ratio = contrast(tokens[fore], tokens[back])
            assert ratio >= needed, f"{scheme}: {fore} on {back} is {ratio:.2f}:1"

    # Focus by the keyboard: the ring is the focus colour (blue), not the red accent.
    page.focus("#id_password")
    page.keyboard.press("Tab")
    button = page.locator("main button[type=submit]")
    expect(button).to_be_focused()
    outline = button.evaluate("b => getComputedStyle(b).outlineColor")
    red, green, blue = rgb(outline)
    assert blue > red and blue > green, f"the focus ring is {outline}"
    accent = button.evaluate("b => getComputedStyle(b).backgroundColor")
    assert rgb(outline) != rgb(accent)
    field = page.locator("#id_username")
    field.focus()
    assert rgb(field.evaluate("f => getComputedStyle(f).outlineColor")) == rgb(outline)


@pytest.mark.browser
def test_our_own_select_and_file_button(open_page, live):
    page = open_page("mei")
    page.goto(f"{live.url}/account/")
    select = page.locator("#language-select")
    style = select.evaluate(
        "s => ({appearance: getComputedStyle(s).appearance,"
        " image: getComputedStyle(s).backgroundImage})"
    )
    assert style["appearance"] == "none"
    chevron = re.search(r'url\("?([^")]+)"?\)', style["image"]).group(1)
    answer = page.request.get(chevron)
    assert answer.status == 200 and answer.headers["content-type"].startswith("image/svg")
    # Drawn: the Content Security Policy let the picture in (img-src 'self').
    assert "chevron" in chevron

    file_input = page.locator("input[type=file]").first
    button = file_input.evaluate(
        """f => { const s = getComputedStyle(f, "::file-selector-button");
                  return {radius: s.borderTopLeftRadius, background: s.backgroundColor,
                          weight: s.fontWeight}; }"""
    )
    card = page.evaluate("() => getComputedStyle(document.querySelector('.card')).backgroundColor")
    assert button["radius"] == "8px" and button["background"] == card
    assert int(button["weight"]) >= 600


# ---- The header ---------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_header_is_one_row(open_page, live, language, viewport):
    page = open_page("mei", viewport=viewport, language=language, is_mobile=viewport == PHONE)
    # Each page with its own link marked as the current one (the studio's, the gallery's, none).
    for address in ("/", "/gallery/", "/account/"):
        page.goto(f"{live.url}{address}")
        header = box(page.locator("header.topbar"))
        assert header["height"] <= HEADER_MAX, f"{address}: the header is {header['height']} px"
        parts = [
            page.locator(".topbar .brand"), page.locator(".topbar .badge.demo"),
            page.locator(".mainnav"), page.locator("#language-select"),
            page.locator("details.menu > summary"),
        ]  # fmt: skip
        boxes = [box(part) for part in parts]
        bottom = header["y"] + header["height"]
        for part, found in zip(parts, boxes, strict=True):
            assert header["y"] <= found["y"] and found["y"] + found["height"] <= bottom, part
        for left, right in itertools.pairwise(boxes):
            assert left["x"] + left["width"] <= right["x"], f"{address}: the header's parts overlap"
        assert boxes[-1]["x"] + boxes[-1]["width"] <= viewport["width"], address
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{address} scrolls sideways: {width} px"
        # The demo badge stays, small.
        assert boxes[1]["height"] <= 24


@pytest.mark.browser
def test_the_account_menu_works_by_keyboard_and_logs_out(open_page, live):
    page = open_page("mei", viewport=PHONE)
    page.goto(f"{live.url}/account/")
    summary = page.locator("details.menu > summary")
    panel = page.locator(".menu-panel")
    expect(panel).to_be_hidden()
    summary.focus()
    page.keyboard.press("Enter")
    expect(panel).to_be_visible()
    expect(panel.get_by_role("link", name="People")).to_be_visible()
    expect(panel.get_by_role("link", name="Account")).to_have_attribute("aria-current", "page")
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(summary).to_be_focused()
    summary.click()
    expect(panel).to_be_visible()
    page.locator("main h1").click()  # a click elsewhere closes it
    expect(panel).to_be_hidden()
    summary.click()
    panel.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{live.url}/login/")


# ---- Forms --------------------------------------------------------------------------------------


def expect_designed_form(page) -> None:
    """A card with a title and a line of explanation; labels without colons; help text as
    quiet sentences, not bullets."""
    card = page.locator("main .card").filter(has=page.locator("form label")).first
    expect(card.locator("h1, h2").first).to_be_visible()
    expect(card.locator(".lede").first).to_be_visible()
    labels = page.locator("main form label").all_inner_texts()
    assert labels and not [text for text in labels if text.strip().endswith((":", "："))], labels
    for item in page.locator("main .helptext li").all():
        assert item.evaluate("li => getComputedStyle(li).display") == "inline"
    muted = page.evaluate(TOKENS_JS, ["--muted"])["--muted"]
    for help_text in page.locator("main .helptext").all():
        colour = help_text.evaluate("h => getComputedStyle(h).color")
        assert rgb(colour) == tuple(int(muted[i : i + 2], 16) for i in (1, 3, 5))


@pytest.mark.browser
def test_a_fresh_installation_sets_up_the_owner_on_a_designed_page(browser, tmp_path):
    with running_gaitu(tmp_path) as fresh:
        context = browser.new_context(viewport=PHONE, locale="en-US")
        page = context.new_page()
        page.goto(fresh.url)
        expect(page).to_have_url(f"{fresh.url}/setup/")
        expect_designed_form(page)
        page.fill("#id_username", "mei")
        page.fill("#id_password1", "short")
        page.fill("#id_password2", "short")
        page.get_by_role("button", name="Create the owner account").click()
        # The error is next to its field, and the field says so.
        error = page.locator("#id_password2_error")
        expect(error).to_contain_text("too short")
        field = page.locator("#id_password2")
        assert "id_password2_error" in field.get_attribute("aria-describedby")
        assert box(error)["y"] >= box(field)["y"] + box(field)["height"]
        context.close()


@pytest.mark.browser
@pytest.mark.parametrize("address", FORM_PAGES)
def test_form_pages_are_designed(open_page, live, address):
    page = open_page(None if address == "/login/" else "mei")
    page.goto(f"{live.url}{address}")
    expect_designed_form(page)


@pytest.mark.browser
def test_an_error_sits_next_to_its_field(open_page, live):
    page = open_page("mei", viewport=PHONE)
    page.goto(f"{live.url}/account/password/")
    page.fill("#id_old_password", "not my password")
    page.fill("#id_new_password1", "another long pass phrase")
    page.fill("#id_new_password2", "another long pass phrase")
    page.get_by_role("button", name="Change password").click()
    field = page.locator("#id_old_password")
    error = page.locator("#id_old_password_error")
    expect(error).to_be_visible()
    expect(field).to_have_attribute("aria-invalid", "true")
    assert field.locator("xpath=..").locator(".errorlist").count() == 1  # in the field's group
    gap = box(error)["y"] - (box(field)["y"] + box(field)["height"])
    assert 0 <= gap <= 16, f"the error is {gap} px under its field"


# ---- Error pages --------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_stranger_gets_gaitus_404_without_the_owners_navigation(open_page, live, language):
    page = open_page(language=language, viewport=PHONE)
    answer = page.goto(f"{live.url}/s/turned-off-long-ago")
    assert answer.status == 404
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("main h1")).to_have_text(in_language(language, "Nothing here"))
    expect(page.locator("main .lede")).to_have_text(in_language(language, NOT_FOUND))
    expect(page.locator(".error-page .button")).to_be_visible()  # a way on
    expect(page.locator(".mainnav")).to_have_count(0)
    expect(page.locator("details.menu")).to_have_count(0)
    card = page.locator(".error-page")
    assert card.evaluate("c => getComputedStyle(c).borderTopLeftRadius") == "12px"  # styled


@pytest.mark.browser
@pytest.mark.parametrize("address", ["/edits/00000000-0000-4000-8000-000000000000/", "/signup/"])
def test_an_unknown_edit_and_closed_sign_up_are_gaitus_404(open_page, live, address):
    page = open_page("mei", language="zh-hans")
    answer = page.goto(f"{live.url}{address}")
    assert answer.status == 404
    expect(page.locator("main .lede")).to_have_text(in_language("zh-hans", NOT_FOUND))
    back = page.get_by_role("link", name=in_language("zh-hans", "Back to the studio"))
    back.click()
    expect(page).to_have_url(f"{live.url}/")


@pytest.mark.browser
def test_someone_else_opening_people_is_told_why_without_a_redirect_loop(open_page, live):
    page = open_page("lin")
    answer = page.goto(f"{live.url}/people/")
    assert answer.status == 403
    assert answer.request.redirected_from is None
    expect(page).to_have_url(f"{live.url}/people/")
    expect(page.locator("main .lede")).to_have_text(OWNER_ONLY)
    page.locator("details.menu > summary").click()
    expect(page.locator(".menu-panel").get_by_role("link", name="People")).to_have_count(0)


# ---- The account page's tokens ------------------------------------------------------------------


@pytest.mark.browser
def test_a_new_token_has_a_copy_button_and_revoking_asks_first(open_page, live):
    page = open_page("mei")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.url)
    page.goto(f"{live.url}/account/")
    page.fill("#id_name", "copy test")
    page.get_by_role("button", name="Create a token").click()
    shown = page.locator("#new-token")
    token = shown.input_value()
    assert token.startswith("gtu_")
    copy = page.locator("[data-copy='#new-token']")
    copy.click()
    expect(copy).to_have_text("✓")
    assert page.evaluate("() => navigator.clipboard.readText()") == token

    row = page.locator("tr", has_text="copy test")
    questions = []

    def answer(dialog, accept: bool) -> None:
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, accept=False))
    row.get_by_role("button", name="Revoke").click()
    assert questions == ["Revoke this token? Scripts that use it stop working at once."]
    expect(row).to_have_count(1)
    page.reload()
    expect(row).to_have_count(1)  # nothing was sent

    page.once("dialog", lambda dialog: answer(dialog, accept=True))
    row.get_by_role("button", name="Revoke").click()
    flash = page.locator(".flash.success")
    expect(flash).to_contain_text("no longer works")
    expect(row).to_have_count(0)
    ok = page.evaluate(TOKENS_JS, ["--ok"])["--ok"]
    edge = flash.evaluate("f => getComputedStyle(f).borderLeftColor")
    assert rgb(edge) == tuple(int(ok[i : i + 2], 16) for i in (1, 3, 5))


@pytest.mark.browser
def test_revoking_works_without_javascript(open_page, live):
    page = open_page("mei", java_script_enabled=False)
    page.goto(f"{live.url}/account/")
    page.fill("#id_name", "no scripts")
    page.get_by_role("button", name="Create a token").click()
    row = page.locator("tr", has_text="no scripts")
    row.get_by_role("button", name="Revoke").click()
    expect(page.locator(".flash.success")).to_contain_text("no longer works")
    expect(row).to_have_count(0)


# ---- Widths and accessibility -------------------------------------------------------------------


@pytest.mark.browser
def test_each_page_type_has_a_width_that_suits_it(open_page, live):
    page = open_page("mei")
    page.goto(f"{live.url}/account/password/")
    assert box(page.locator("main .narrow.card"))["width"] <= 480
    for address in ("/account/", "/people/"):
        page.goto(f"{live.url}{address}")
        width = box(page.locator(".page-grid"))["width"]
        assert 900 <= width <= 68 * 16, f"{address}: the grid is {width} px wide"


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_pages_pass_axe(open_page, live, scheme, language):
    stranger = open_page(language=language, scheme=scheme, viewport=PHONE)
    for address in ("/login/", "/s/turned-off"):
        stranger.goto(f"{live.url}{address}")
        assert_accessible(stranger, f"{address} ({language}, {scheme}, a stranger)")
    owner = open_page("mei", language=language, scheme=scheme)
    for address in (*FORM_PAGES[1:], "/account/", "/signup/"):
        owner.goto(f"{live.url}{address}")
        assert_accessible(owner, f"{address} ({language}, {scheme})")
    owner.locator("details.menu > summary").click()
    assert_accessible(owner, f"the open account menu ({language}, {scheme})")
    other = open_page("lin", language=language, scheme=scheme)
    other.goto(f"{live.url}/people/")
    assert_accessible(other, f"the 403 page ({language}, {scheme})")
