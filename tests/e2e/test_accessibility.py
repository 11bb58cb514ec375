"""Every page a person can reach, audited by axe-core in real headless Chromium: in English and
Simplified Chinese, in the light and the dark colour scheme, at desktop size, and the studio
and the share page at phone size too; no serious or critical violation of WCAG 2.2 A and AA or
of axe's best practices, contrast included. Then by keyboard alone: on every page the Tab key
reaches each control a person can see and each shows that it has the focus; in the studio the
main controls and a card's actions are named one by one, and the slider moves with the arrows.

Two installations: one with people, edits in every state, a share link and exports, and a
fresh one with nobody yet (the first-run set-up page) and sign-up open."""

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.support.accessibility import (
    add_axe,
    describe,
    focused_description,
    is_focused,
    ring,
    settle,
    tab_through,
    violations,
    visible_ring,
)
from tests.support.browser import browser as browser  # a fixture, found by name
from tests.support.browser import log_in
from tests.support.live import PASSWORD, Gaitu, running_gaitu, wait_until
from tests.support.studio_browser import api_edit

LANGUAGES = {"en": "en-US", "zh-hans": "zh-CN"}  # Django's language code: the browser's locale
SCHEMES = ("light", "dark")
SIZES: dict[str, dict[str, Any]] = {
    "desktop": {"viewport": {"width": 1440, "height": 900}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 3,
        "is_mobile": True,
        "has_touch": True,
    },
}
TAB_PRESSES = 80  # more than the studio has controls before its first card's Share button


@dataclass
class Site:
    main: Gaitu  # people, edits in every state, a share link, an export, a refused import
    fresh: Gaitu  # nobody yet, sign-up open
    sessions: dict[str, Any]  # each person's browser storage state, logged in
    finished: dict[str, Any]
    running: dict[str, Any]
    failed: dict[str, Any]
    share_path: str


# The people, made in one `manage.py shell` (each manage.py start takes seconds): the owner,
# "keys" (the keyboard test's: one finished edit, nothing else), "newcomer" (no edits, not the
# owner) and "guarded" (an authenticator app set up, so that logging in asks for a code). It
# prints the API tokens of the owner and of keys.
PEOPLE_CODE = f"""
import json
from django.contrib.auth.models import User
from django_otp.plugins.otp_totp.models import TOTPDevice
from accounts.models import ApiToken
owner = User.objects.create_superuser("owner", "owner@example.com", {PASSWORD!r})
keys, newcomer, guarded = (
    User.objects.create_user(name, password={PASSWORD!r})
    for name in ("keys", "newcomer", "guarded")
)
TOTPDevice.objects.create(user=guarded, name="phone", confirmed=True)
print(json.dumps({{person.username: ApiToken.issue(person)[1] for person in (owner, keys)}}))
"""


def make_people(gaitu: Gaitu) -> dict[str, httpx.Client]:
    """The people above; API clients for the owner and for keys."""
    tokens = json.loads(gaitu.manage("shell", "-c", PEOPLE_CODE).strip().splitlines()[-1])
    return {
        username: httpx.Client(
            base_url=gaitu.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        for username, token in tokens.items()
    }


def logged_in_state(browser: Browser, gaitu: Gaitu, username: str) -> dict[str, Any]:
    """Log in once through the login form; the session's cookies, for every test's contexts."""
    context = browser.new_context()
    page = context.new_page()
    log_in(page, gaitu.url, username, PASSWORD)
    state = context.storage_state()
    context.close()
    return state


@pytest.fixture(scope="module")
def site(tmp_path_factory, browser) -> Iterator[Site]:
    with (
        running_gaitu(
            tmp_path_factory.mktemp("a11y-main"), GAITU_DEMO_LATENCY="1", GAITU_RATE_LIMIT="0"
        ) as main,
        running_gaitu(tmp_path_factory.mktemp("a11y-fresh"), GAITU_SIGNUP="open") as fresh,
    ):
        clients = make_people(main)
        owner, keys = clients["owner"], clients["keys"]
        running = api_edit(owner, "a slow one [demo:latency=600]", wait=False)
        try:
            finished = api_edit(owner, "warm up the colours [demo:n=2]")
            failed = api_edit(owner, "sharpen the forest [demo:fail=401]")
            wait_until(
                lambda: owner.get(f"/api/v1/edits/{running['id']}").json()["status"] == "running",
                timeout=60,
                what="the slow edit running",
            )
            api_edit(keys, "brighten the sky")
            shared = owner.post(f"/api/v1/edits/{finished['id']}/share")
            assert shared.status_code == 201, shared.text
            export = owner.post("/api/v1/exports")
            assert export.status_code == 202, export.text
            refused = owner.post(
                "/api/v1/imports",
                files={"archive": ("gallery.zip", b"not a zip archive", "application/zip")},
            )
            assert refused.status_code == 202, refused.text
            for url in (f"/api/v1/exports/{export.json()['id']}", refused.json()["url"]):
                wait_until(
                    lambda url=url: owner.get(url).json()["status"] in ("done", "failed"),
                    timeout=60,
                    what=f"{url} finished",
                )
            yield Site(
                main=main,
                fresh=fresh,
                sessions={
                    name: logged_in_state(browser, main, name)
                    for name in ("owner", "newcomer", "keys")
                },
                finished=finished,
                running=running,
                failed=failed,
                share_path="/" + shared.json()["url"].split("/", 3)[3],
            )
        finally:
            # Not left for the shutdown to wait on.
            owner.post(f"/api/v1/edits/{running['id']}/cancel")
            owner.close()
            keys.close()


# ---- The pages --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Visit:
    open: Callable[[Site, Page], None]  # brings the page to the state that is audited
    who: str | None  # whose session: None for a stranger
    sizes: tuple[str, ...] = ("desktop",)
    # Swagger UI, the API's docs page, is English only and has no dark colours of its own: the
    # page says so (lang="en") and is audited as it is, with every rule all the same.
    translated: bool = True
    follows_scheme: bool = True


PAGES: dict[str, Visit] = {}


def page_of(name: str, **visit: Any) -> Callable[[Callable[[Site, Page], None]], Any]:
    def register(open_page: Callable[[Site, Page], None]) -> Callable[[Site, Page], None]:
        PAGES[name] = Visit(open_page, **{"who": None, **visit})
        return open_page

    return register


def studio_loaded(page: Page) -> None:
    """The studio asks for the gateway's models after the page: audited once they are in."""
    expect(page.locator("#id_model option")).not_to_have_count(0)


@page_of("login")
def login_page(site: Site, page: Page) -> None:
    page.goto(f"{site.main.url}/login/")


@page_of("login-wrong-password")
def login_wrong_password(site: Site, page: Page) -> None:
    page.goto(f"{site.main.url}/login/")
    page.fill("#id_username", "nobody")
    page.fill("#id_password", "not the password")
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state("load")


@page_of("login-code")
def login_code(site: Site, page: Page) -> None:
    page.goto(f"{site.main.url}/login/")
    page.fill("#id_username", "guarded")
    page.fill("#id_password", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(f"{site.main.url}/login/code/")


@page_of("setup")
def setup_page(site: Site, page: Page) -> None:
    page.goto(f"{site.fresh.url}/setup/")
    expect(page.locator("#id_username")).to_be_visible()


@page_of("signup-open")
def signup_open(site: Site, page: Page) -> None:
    page.goto(f"{site.fresh.url}/signup/")
    expect(page.locator("#id_username")).to_be_visible()


@page_of("signup-closed-404")
def signup_closed(site: Site, page: Page) -> None:
    assert page.goto(f"{site.main.url}/signup/").status == 404


@page_of("share-gone-404")
def share_gone(site: Site, page: Page) -> None:
    assert page.goto(f"{site.main.url}/s/no-such-link").status == 404


@page_of("edit-unknown-404", who="owner")
def edit_unknown(site: Site, page: Page) -> None:
    assert page.goto(f"{site.main.url}/edits/{uuid.uuid4()}/").status == 404


@page_of("people-not-owner", who="newcomer")
def people_not_owner(site: Site, page: Page) -> None:
    page.goto(f"{site.main.url}/people/")


@page_of("studio-empty", who="newcomer")
def studio_empty(site: Site, page: Page) -> None:
    page.goto(f"{site.main.url}/")
    studio_loaded(page)


@page_of("studio-finished-failed-running", who="owner", sizes=("desktop", "phone"))
def studio_full(site: Site, page: Page) -> None:
    page.goto(f"{site.main.url}/")
    studio_loaded(page)
    for edit, status in ((site.finished, "succeeded"), (site.failed, "failed")):
        expect(page.locator(f"#edit-{edit['id']}")).to_have_attribute("data-status", status)
    expect(page.locator(f"#edit-{site.running['id']}")).to_have_attribute("data-status", "running")


@page_of("lightbox-open", who="owner")
def lightbox_open(site: Site, page: Page) -> None:
    page.goto(f"{site.main.url}/")
    studio_loaded(page)
    card = page.locator(f"#edit-{site.finished['id']}")
    # Its button ("Full size"): in the compare view the slider lies over the picture's link.
    card.locator("button[data-lightbox-open]").first.click()
    expect(page.locator("dialog[open]")).to_be_visible()


@page_of("gallery", who="owner")
def gallery(site: Site, page: Page) -> None:
    page.goto(f"{site.main.url}/gallery/")
    expect(page.locator(f"[href*='{site.finished['id']}']").first).to_be_visible()


@page_of("edit-detail", who="owner")
def edit_detail(site: Site, page: Page) -> None:
    page.goto(f"{site.main.url}/edits/{site.finished['id']}/")


@page_of("edit-detail-failed", who="owner")
def edit_detail_failed(site: Site, page: Page) -> None:
    page.goto(f"{site.main.url}/edits/{site.failed['id']}/")


@page_of("delete-confirmation", who="owner")
def delete_confirmation(site: Site, page: Page) -> None:
    page.goto(f"{site.main.url}/edits/{site.finished['id']}/delete/")


@page_of("account-new-token", who="owner")
def account_new_token(site: Site, page: Page) -> None:
    page.goto(f"{site.main.url}/account/")
    form = page.locator("form[action$='/account/tokens/']")
    form.locator("input[name=name]").fill("my script")
    form.locator("button[type=submit]").click()
    expect(page.locator("#new-token")).to_be_visible()
    # The gallery's export (done) and import (refused) are shown there too.
    expect(page.locator("#export-status")).to_be_visible()
    expect(page.locator("#import-status")).to_be_visible()


@page_of("password-change", who="owner")
def password_change(site: Site, page: Page) -> None:
    page.goto(f"{site.main.url}/account/password/")


@page_of("two-factor-setup", who="owner")
def two_factor_setup(site: Site, page: Page) -> None:
    page.goto(f"{site.main.url}/account/two-factor/")


@page_of("people", who="owner")
def people(site: Site, page: Page) -> None:
    page.goto(f"{site.main.url}/people/")


@page_of("admin", who="owner")
def admin_index(site: Site, page: Page) -> None:
    page.goto(f"{site.main.url}/admin/")  # the account menu's "Admin", for staff


@page_of("admin-edits", who="owner")
def admin_edits(site: Site, page: Page) -> None:
    page.goto(f"{site.main.url}/admin/editor/edit/")
    expect(page.locator("#result_list")).to_be_visible()


@page_of("api-docs", translated=False, follows_scheme=False)
def api_docs(site: Site, page: Page) -> None:
    page.goto(f"{site.main.url}/api/v1/docs")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()


@page_of("share", sizes=("desktop", "phone"))
def share(site: Site, page: Page) -> None:
    page.goto(f"{site.main.url}{site.share_path}")


CASES = [
    pytest.param(name, size, language, scheme, id=f"{name}-{size}-{language}-{scheme}")
    for name, visit in PAGES.items()
    for size in visit.sizes
    for language in LANGUAGES
    for scheme in SCHEMES
]


def new_context(
    browser: Browser, site: Site, who: str | None, language: str, scheme: str, size: str
) -> BrowserContext:
    """A browser as that person keeps it: logged in or not, the language chosen (Django's
    language cookie, as the language menu sets it, and the browser's own locale), the colour
    scheme of the system, and the size of the screen."""
    context = browser.new_context(
        locale=LANGUAGES[language],
        color_scheme=scheme,
        storage_state=site.sessions[who] if who else None,
        **SIZES[size],
    )
    cookies = [
        {"name": "django_language", "value": language, "url": gaitu.url}
        for gaitu in (site.main, site.fresh)
    ]
    context.add_cookies(cookies)  # type: ignore[arg-type]  # playwright's TypedDict
    add_axe(context)
    return context


# The page's own background, as painted: the body's, else the root's.
BACKGROUND_LUMINANCE_JS = """() => {
  const painted = [document.body, document.documentElement]
    .map((element) => getComputedStyle(element).backgroundColor)
    .find((colour) => !/rgba\\(.*, 0\\)$|transparent/.test(colour)) || "rgb(255, 255, 255)";
  const [r, g, b] = painted.match(/[\\d.]+/g).slice(0, 3).map((part) => {
    const channel = Number(part) / 255;
    return channel <= 0.04045 ? channel / 12.92 : ((channel + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}"""


@pytest.mark.browser
@pytest.mark.parametrize(("name", "size", "language", "scheme"), CASES)
def test_no_serious_accessibility_violation(site, browser, name, size, language, scheme):
    visit = PAGES[name]
    context = new_context(browser, site, visit.who, language, scheme, size)
    try:
        page = context.new_page()
        visit.open(site, page)
        problems = []
        if found := violations(page):
            problems.append(describe(found, f"{name} ({size}, {language}, {scheme}) at {page.url}"))
        lang = page.locator("html").get_attribute("lang")
        if visit.translated and lang != language:
            # The page is in the language asked for (what auditing each language is about).
            problems.append(f"the page's <html lang> is {lang!r}, not {language!r}")
        luminance = page.evaluate(BACKGROUND_LUMINANCE_JS)
        if visit.follows_scheme and not (luminance < 0.2 if scheme == "dark" else luminance > 0.6):
            problems.append(f"the page's background (luminance {luminance:.2f}) is not {scheme}")
        assert not problems, "\n".join(problems)
    finally:
        context.close()


# ---- By keyboard alone -----------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("name", list(PAGES))
def test_every_control_is_reached_by_tab_with_a_focus_ring(site, browser, name):
    """On every page, Tab from the top comes to each control a person can see (links, buttons,
    fields, the menus' summaries), and each shows a focus ring when it has the focus."""
    visit = PAGES[name]
    context = new_context(browser, site, visit.who, "en", "light", "desktop")
    try:
        page = context.new_page()
        visit.open(site, page)
        settle(page)
        walk = tab_through(page)
        assert not walk["missed"], (
            f"{name}: Tab never reached {walk['missed']}; it went {' → '.join(walk['path'])}"
        )
        assert not walk["ringless"], f"{name}: no visible focus ring on {walk['ringless']}"
    finally:
        context.close()


@pytest.mark.browser
def test_studio_by_keyboard(site, browser):
    """From the top of the studio, Tab reaches the upload control, the instruction, the model,
    the Edit button and the finished card's Download, Edit again, Share and slider; each shows
    a focus ring that focus brought (an outline or a shadow on it, its label or a near parent);
    the slider moves with the arrow keys."""
    context = new_context(browser, site, "keys", "en", "light", "desktop")
    try:
        page = context.new_page()
        page.goto(f"{site.main.url}/")
        studio_loaded(page)
        card = page.locator(".edit-card[data-status=succeeded]").first
        expect(card).to_be_visible()
        controls = {
            "the upload control": page.locator("#id_images"),
            "the instruction": page.locator("#id_instruction"),
            "the model": page.locator("#id_model"),
            "the Edit button": page.locator("#upload-form button[type=submit]"),
            "Download": card.locator("a[href$='/download']").first,
            "Edit again": card.locator("a[href*='again=']").first,
            "Share": card.locator("form[action$='/share/'] button[type=submit]"),
            "the slider": card.locator("input[type=range]"),
        }
        elements = {what: locator.element_handle() for what, locator in controls.items()}
        unfocused = {what: ring(element) for what, element in elements.items()}
        page.evaluate("() => document.activeElement && document.activeElement.blur()")

        path: list[str] = []  # what each press focused, for the message
        rings: dict[str, str | None] = {}
        moved: list[str] = []
        for _ in range(TAB_PRESSES):
            if len(rings) == len(elements):
                break
            page.keyboard.press("Tab")
            path.append(focused_description(page))
            for what, element in elements.items():
                if what not in rings and is_focused(element):
                    rings[what] = visible_ring(unfocused[what], ring(element))
                    if what == "the slider":
                        moved = slider_values(page, element)

        missed = [what for what in elements if what not in rings]
        assert not missed, f"Tab never reached {missed}; it went: {' → '.join(path)}"
        ringless = [what for what, shown in rings.items() if shown is None]
        assert not ringless, f"no visible focus ring on {ringless}"
        assert moved[0] != moved[1] != moved[2], f"the slider did not move by keyboard: {moved}"
    finally:
        context.close()


def slider_values(page: Page, slider) -> list[str]:
    """The slider's value before and after ArrowRight, then after ArrowLeft twice."""
    values = [slider.evaluate("range => range.value")]
    page.keyboard.press("ArrowRight")
    values.append(slider.evaluate("range => range.value"))
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    values.append(slider.evaluate("range => range.value"))
    return values
