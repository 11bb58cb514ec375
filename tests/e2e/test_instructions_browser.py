"""The instruction picker and the owner's ready-made list in real headless Chromium: a person
stars an instruction from their recent ones and uses it again, the picker takes in an edit
just sent and lets one go; the owner changes a ready-made instruction in both languages and
the studio shows it in each. axe-core audits the picker and both pages."""

import json
import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.support.accessibility import add_axe, describe, violations
from tests.support.browser import log_in
from tests.support.live import PASSWORD, Gaitu, running_gaitu
from tests.support.studio_browser import (  # noqa: F401 (fixtures are found by name)
    Contexts,
    api_edit,
    browser,
    contexts,
    expect_studio_intact,
    newest_card,
    png,
)

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "has_touch": True,
    "is_mobile": True,
    "device_scale_factor": 2,
}
# The site's owner, and a person who is not: made in one `manage.py shell`, with their tokens.
PEOPLE_CODE = f"""
import json
from django.contrib.auth.models import User
from accounts.models import ApiToken
boss = User.objects.create_superuser("boss", "boss@example.com", {PASSWORD!r})
mei = User.objects.create_user("mei", password={PASSWORD!r})
print(json.dumps({{person.username: ApiToken.issue(person)[1] for person in (boss, mei)}}))
"""


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[Gaitu]:
    with running_gaitu(
        tmp_path_factory.mktemp("instructions"), GAITU_DEMO_LATENCY="0", GAITU_RATE_LIMIT="0"
    ) as gaitu:
        yield gaitu


@pytest.fixture(scope="module")
def people(live) -> Iterator[dict[str, httpx.Client]]:
    tokens = json.loads(live.manage("shell", "-c", PEOPLE_CODE).strip().splitlines()[-1])
    clients = {
        name: httpx.Client(
            base_url=live.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        for name, token in tokens.items()
    }
    yield clients
    for client in clients.values():
        client.close()


def studio_of(live: Gaitu, contexts: Contexts, username: str, **options) -> Page:
    context = contexts.new(**options)
    add_axe(context)
    page = context.new_page()
    log_in(page, live.url, username, PASSWORD)
    expect_studio_intact(page)
    return page


def expect_accessible(page: Page, where: str) -> None:
    found = violations(page)
    assert not found, describe(found, where)


def picker_group(page: Page, name: str):
    """A group of the picker by its name, as a screen reader announces it."""
    return page.locator("#instruction-picker").get_by_role("group", name=name, exact=True)


def group_in_any_language(page: Page, which: str):
    """starred, recent or ready: the group the label of that id names."""
    return page.locator(f'#instruction-picker [aria-labelledby="instructions-{which}-label"]')


@pytest.mark.browser
def test_a_person_stars_a_recent_instruction_and_uses_it_again(live, people, contexts):
    api_edit(people["mei"], "turn the desk lamp on")
    page = studio_of(live, contexts, "mei")
    # The page links the picker's own style and script (base.html).
    expect(page.locator("link[href*='gaitu/instructions.'][rel=stylesheet]")).to_have_count(1)
    expect(page.locator("script[src*='gaitu/instructions.']")).to_have_count(1)

    recent = picker_group(page, "Recent")
    expect(recent.locator("[data-preset]")).to_have_text(["turn the desk lamp on"])
    expect(picker_group(page, "Starred")).to_have_count(0)
    expect(picker_group(page, "Ready-made instructions").locator("[data-preset]")).to_have_count(7)
    # Not the owner: no way to the ready-made list.
    expect(page.get_by_role("link", name="Edit the ready-made ones")).to_have_count(0)
    expect_accessible(page, "the studio with a recent instruction")

    star = page.get_by_role("button", name="Star “turn the desk lamp on”")
    expect(star).to_have_attribute("aria-pressed", "false")
    star.click()
    starred = picker_group(page, "Starred")
    expect(starred.locator("[data-preset]")).to_have_text(["turn the desk lamp on"])
    expect(star).to_have_attribute("aria-pressed", "true")
    expect(star).to_be_focused()  # the same toggle, drawn again, keeps the focus
    expect(picker_group(page, "Recent")).to_have_count(0)

    starred.locator("[data-preset]").click()
    expect(page.locator("#id_instruction")).to_have_value("turn the desk lamp on")
    expect(page.locator("#id_instruction")).to_be_focused()

    # Sent from the studio, a new instruction is among the recent ones without a reload.
    page.set_input_files("#id_images", png("door.png"))
    page.fill("#id_instruction", "paint the door red")
    page.locator("#upload-form button[type=submit]").click()
    expect(newest_card(page, "paint the door red")).to_be_visible()
    fresh = picker_group(page, "Recent").locator("[data-preset]")
    expect(fresh).to_have_text(["paint the door red"])

    # Forgotten, it goes, and the focus stays in the picker.
    page.get_by_role("button", name="Forget “paint the door red”").click()
    expect(picker_group(page, "Recent")).to_have_count(0)
    expect(page.locator("#instruction-picker [data-preset]:focus")).to_have_count(1)

    page.reload()
    expect_studio_intact(page)
    expect(picker_group(page, "Starred").locator("[data-preset]")).to_have_text(
        ["turn the desk lamp on"]
    )
    assert page.request.get(f"{live.url}/instructions/ready/").status == 403

    page.get_by_role("link", name="My instructions").click()
    expect(page.locator(".saved-row")).to_have_count(1)
    expect_accessible(page, "My instructions")


@pytest.mark.browser
def test_the_picker_on_a_phone_in_chinese_and_dark(live, people, contexts):
    api_edit(people["mei"], "把灯打开")
    page = studio_of(live, contexts, "mei", locale="zh-CN", color_scheme="dark", **PHONE)
    expect(group_in_any_language(page, "recent").locator("[data-preset]").first).to_have_text(
        "把灯打开"
    )
    expect(page.locator("#instruction-picker")).to_contain_text("去除背景")
    # All the groups are one row that scrolls sideways: no taller than a chip.
    row = page.locator("#instruction-picker .presets")
    box = row.bounding_box()
    assert box and box["height"] < 64, box
    assert row.evaluate("row => row.scrollWidth > row.clientWidth")
    expect_accessible(page, "the studio's picker on a phone, in Chinese, dark")


@pytest.mark.browser
def test_the_owner_changes_a_ready_made_instruction_in_both_languages(live, people, contexts):
    page = studio_of(live, contexts, "boss")
    page.get_by_role("link", name="Edit the ready-made ones").click()
    expect(page).to_have_url(re.compile(r"/instructions/ready/$"))
    expect(page.locator(".ready-row")).to_have_count(7)
    expect_accessible(page, "the ready-made list")

    row = page.locator(".ready-row", has_text="Blue sky")
    row.get_by_role("link", name="Change").click()
    expect(page.locator("#id_text_zh")).to_have_value("把背景换成蓝天白云")
    page.fill("#id_label_en", "Sunset sky")
    page.fill("#id_text_en", "Replace the sky with a warm sunset")
    page.fill("#id_label_zh", "日落天空")
    page.fill("#id_text_zh", "把天空换成温暖的日落")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("Sunset sky")

    # Moved up, it comes first.
    page.locator(".ready-row", has_text="Sunset sky").get_by_role("button", name="Move up").click()
    expect(page.locator(".ready-row").first).to_contain_text("Sunset sky")
    expect(page.locator(".ready-row").first).to_contain_text("日落天空")

    page.goto(f"{live.url}/")
    expect_studio_intact(page)
    first = picker_group(page, "Ready-made instructions").locator("[data-preset]").first
    expect(first).to_have_text("Sunset sky")
    first.click()
    expect(page.locator("#id_instruction")).to_have_value("Replace the sky with a warm sunset")

    chinese = studio_of(live, contexts, "boss", locale="zh-CN")
    first = chinese.locator("#instruction-picker [data-preset]").first
    expect(first).to_have_text("日落天空")
    first.click()
    expect(chinese.locator("#id_instruction")).to_have_value("把天空换成温暖的日落")
    expect_accessible(chinese, "the studio in Chinese after the owner's change")


@pytest.mark.browser
def test_my_instructions_works_without_scripts(live, people, contexts):
    api_edit(people["mei"], "soften the shadows")
    context = contexts.new(java_script_enabled=False)
    page = context.new_page()
    log_in(page, live.url, "mei", PASSWORD)
    # Without scripts the chips cannot write in the box; the way to one's instructions stays.
    expect(page.locator("#instruction-picker .presets")).to_be_hidden()
    page.get_by_role("link", name="My instructions").click()
    row = page.locator(".saved-row", has_text="soften the shadows")
    star = row.get_by_role("button", name="Star")
    expect(star).to_have_attribute("aria-pressed", "false")
    star.click()
    expect(page).to_have_url(re.compile(r"/instructions/$"))
    row = page.locator(".saved-row", has_text="soften the shadows")
    expect(row.get_by_role("button", name="Star")).to_have_attribute("aria-pressed", "true")
    row.get_by_role("button", name="Forget").click()
    expect(page.locator(".saved-row", has_text="soften the shadows")).to_have_count(0)
    expect(page.locator(".messages")).to_contain_text("Forgotten")
