"""Two-factor sign-in in real headless Chromium: set up from the account page with the QR code
(an inline image the Content Security Policy must allow) or the secret typed in, then log in
with the password and the app's code."""

import re
import time
from base64 import b32decode

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import expect

from tests.support.browser import browser as browser  # a fixture, found by name
from tests.support.browser import log_in
from tests.support.live import PASSWORD, ROOT, running_gaitu

SCREENSHOTS = ROOT / "data" / "screenshots"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with running_gaitu(tmp_path_factory.mktemp("two-factor")) as gaitu:
        gaitu.manage("createsuperuser", "--noinput", "--username", "mei",
                     "--email", "mei@example.com", DJANGO_SUPERUSER_PASSWORD=PASSWORD)  # fmt: skip
        yield gaitu


def app_code(secret_base32: str, steps_ahead: int = 0) -> str:
    """What an authenticator app shows for the secret as the set-up page writes it."""
    totp = TOTP(b32decode(secret_base32.replace(" ", "")))
    totp.time = time.time() + steps_ahead * totp.step
    return f"{totp.token():06d}"


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_set_up_then_log_in_with_a_code(live, browser, scheme):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(color_scheme=scheme, viewport={"width": 1000, "height": 900})
    page = context.new_page()
    refused = []
    page.on("console", lambda message: refused.append(message.text))
    log_in(page, live.url, "mei", PASSWORD)

    page.goto(f"{live.url}/account/")
    page.get_by_role("link", name="Set up two-factor sign-in").click()
    qr = page.get_by_role("img", name="QR code holding the secret below")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.naturalWidth") > 0  # drawn: the CSP let it through
    assert not [text for text in refused if "Content Security Policy" in text]
    page.screenshot(path=SCREENSHOTS / f"two-factor-setup-{scheme}.png", full_page=True)

    secret = page.locator("#two-factor-secret").inner_text()
    page.fill("#id_password", PASSWORD)
    page.fill("#id_code", app_code(secret))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    codes = page.locator("#recovery-codes li")
    expect(codes).to_have_count(10)
    page.get_by_role("link", name=re.compile("I have saved them")).click()
    expect(page).to_have_url(f"{live.url}/")

    page.locator("details.menu > summary").click()  # the account menu holds Log out
    page.get_by_role("button", name=re.compile("Log out")).click()
    page.fill("#id_username", "mei")
    page.fill("#id_password", PASSWORD)
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(f"{live.url}/login/code/")
    page.fill("#id_code", app_code(secret, steps_ahead=1))  # the set-up's code is used up
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(f"{live.url}/")

    # Back to off, for the other colour scheme's turn.
    page.goto(f"{live.url}/account/")
    expect(page.get_by_text("10 recovery codes left.")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / f"two-factor-account-{scheme}.png", full_page=True)
    page.fill("#id_secret", PASSWORD)
    page.get_by_role("button", name="Turn off").click()
    expect(page.get_by_text("Two-factor sign-in is off.")).to_be_visible()
    context.close()
