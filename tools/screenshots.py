"""Screenshots of Gaitu for the README, taken from a real Gaitu in headless Chromium.

    make screenshots              # or: python tools/screenshots.py [OUTPUT_DIR]

Starts a Gaitu with the demo gateway in a temporary folder, makes an owner and a few edits of
generated pictures, and saves static/screenshots/*.png: the studio with a finished before/after
slider (English and 简体中文), an edit in progress, the gallery, a shared page opened logged out,
the studio at phone size, the studio and the phone in the dark colour scheme, and the lightbox.
"""

import io
import math
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from PIL import Image, ImageDraw, ImageFilter, ImageOps  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402

from tests.support.browser import launch, log_in  # noqa: E402
from tests.support.live import PASSWORD, running_gaitu, wait_for_edit  # noqa: E402

OUT = ROOT / "static" / "screenshots"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
LOCALES = {"en": "en-US", "zh": "zh-CN"}
MAX_BYTES = 300_000
OWNER = "mei"
EDIT_TIMEOUT = 60_000


# --- pictures -------------------------------------------------------------------------------
def gradient(size, top, bottom) -> Image.Image:
    ramp = Image.linear_gradient("L").resize(size)
    return ImageOps.colorize(ramp, top, bottom)


def hills() -> Image.Image:
    """Sunset over hills and a lake."""
    w, h = 1200, 800
    image = gradient((w, h), "#2b4c8c", "#f6a96b")
    draw = ImageDraw.Draw(image)
    draw.ellipse((760, 250, 960, 450), fill="#ffd86b")
    for n, colour in enumerate(["#6a5d8f", "#4f4a78", "#36385e"]):
        base = 430 + n * 70
        points = [(0, h)]
        for x in range(0, w + 40, 40):
            points.append((x, base - 90 * math.sin(x / (170 + 60 * n) + n * 1.7) ** 2))
        points.append((w, h))
        draw.polygon(points, fill=colour)
    lake = gradient((w, 180), "#f0a070", "#27406e")
    image.paste(lake, (0, 620))
    draw = ImageDraw.Draw(image)
    for y in range(640, 800, 18):
        draw.line((300 + (y % 50), y, 700 - (y % 70), y), fill="#ffd86b", width=2)
    for x in (90, 160, 1040, 1110):
        draw.polygon([(x, 520), (x - 38, 640), (x + 38, 640)], fill="#1f3b2c")
        draw.rectangle((x - 6, 640, x + 6, 665), fill="#3b2a1f")
    return image


def city() -> Image.Image:
    """A city skyline at dusk with lit windows."""
    w, h = 1200, 800
    image = gradient((w, h), "#101a3d", "#c0507a")
    draw = ImageDraw.Draw(image)
    draw.ellipse((150, 90, 260, 200), fill="#f3f0d8")
    x = 0
    heights = [330, 460, 280, 520, 390, 610, 300, 450, 360, 540, 310]
    for n, tall in enumerate(heights):
        width = 90 + (n * 37) % 60
        colour = ["#232842", "#2d3352", "#1b1f36"][n % 3]
        draw.rectangle((x, h - tall, x + width, h), fill=colour)
        for wy in range(h - tall + 20, h - 20, 34):
            for wx in range(x + 12, x + width - 16, 24):
                if (wx * 7 + wy * 3 + n) % 5:
                    draw.rectangle((wx, wy, wx + 10, wy + 16), fill="#ffcf5a")
        x += width + 8
    return image


def still_life() -> Image.Image:
    """Fruit and a vase on a table."""
    w, h = 1200, 800
    image = gradient((w, h), "#f3ead8", "#c9b28f")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 560, w, h), fill="#8a5a3b")
    draw.rectangle((0, 560, w, 580), fill="#a06c48")
    draw.ellipse((420, 230, 640, 580), fill="#2f6f8f")
    draw.rectangle((490, 170, 570, 260), fill="#2f6f8f")
    for cx, cy, r, colour in [
        (260, 520, 70, "#d63a2f"),
        (360, 540, 55, "#f2a23a"),
        (760, 515, 75, "#7fb03c"),
        (880, 535, 60, "#d63a2f"),
        (980, 545, 50, "#f2d23a"),
    ]:
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
        draw.ellipse((cx - r // 3, cy - r // 2, cx, cy - r // 4), fill="#ffffff80")
    for n in range(7):
        angle = -1.2 + n * 0.4
        tip = (530 + 190 * math.sin(angle), 170 - 150 * math.cos(angle))
        draw.line((530, 175, *tip), fill="#3c7a3a", width=6)
        draw.ellipse((tip[0] - 30, tip[1] - 30, tip[0] + 30, tip[1] + 30), fill="#e85d9a")
        draw.ellipse((tip[0] - 10, tip[1] - 10, tip[0] + 10, tip[1] + 10), fill="#ffe066")
    return image.filter(ImageFilter.SMOOTH)


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=88)
    return out.getvalue()


# --- the session ----------------------------------------------------------------------------
def edit(client, picture: bytes, instruction: str, name: str = "photo.jpg") -> dict:
    response = client.post(
        "/api/v1/edits",
        data={"instruction": instruction},
        files={"image": (name, picture, "image/jpeg")},
    )
    response.raise_for_status()
    return response.json()


def open_studio(browser, gaitu, language: str, viewport=DESKTOP, scheme="light"):
    phone = viewport == PHONE  # a touch screen, as a phone is: no keyboard hints on it
    context = browser.new_context(
        locale=LOCALES[language],
        viewport=viewport,
        color_scheme=scheme,
        device_scale_factor=1,
        has_touch=phone,
        is_mobile=phone,
    )
    page = context.new_page()
    log_in(page, gaitu.url, OWNER, PASSWORD)
    return page


def settle(page) -> None:
    """Every picture on the page loaded, nothing moving."""
    page.wait_for_load_state("networkidle")
    page.wait_for_function(
        """() => [...document.images].every((img) => {
          const box = img.getBoundingClientRect();
          const seen = box.width > 0 && box.bottom > 0 && box.top < innerHeight;
          return !seen || (img.complete && img.naturalWidth > 0);
        })"""
    )
    page.evaluate("() => document.activeElement && document.activeElement.blur()")


def shoot(page, out: Path, name: str) -> None:
    path = out / f"{name}.png"
    page.screenshot(path=path, full_page=False)
    if path.stat().st_size > MAX_BYTES:  # photos in a screenshot: fewer colours, smaller file
        image = Image.open(path).convert("RGB")
        image.quantize(256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: "
          f"{path.stat().st_size // 1024} KB")  # fmt: skip


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    pictures = {"hills": jpeg(hills()), "city": jpeg(city()), "still": jpeg(still_life())}
    with (
        tempfile.TemporaryDirectory(prefix="gaitu-screenshots-") as folder,
        running_gaitu(Path(folder), GAITU_DEMO_LATENCY="5", GAITU_RATE_LIMIT="0") as gaitu,
        sync_playwright() as playwright,
    ):
        client = gaitu.api(OWNER)
        made = [
            edit(client, pictures["city"], "Make the night brighter, like early evening"),
            edit(client, pictures["still"], "Sepia, like an old postcard"),
            edit(client, pictures["hills"], "Make it look like a watercolour painting"),
            edit(client, pictures["city"], "Sketch it in pencil"),
            edit(client, pictures["still"], "Mirror it and add contrast"),
        ]
        for created in made:
            wait_for_edit(client, created["url"], timeout=EDIT_TIMEOUT / 1000)
        # The newest edit, on top of the studio, in each language in turn.
        newest = {
            "en": (pictures["hills"], "Black and white, high contrast"),
            "zh": (pictures["still"], "把照片变成黑白，加强对比度"),
        }
        browser = launch(playwright)
        for language, (picture, instruction) in newest.items():
            top = edit(client, picture, instruction)
            wait_for_edit(client, top["url"], timeout=EDIT_TIMEOUT / 1000)
            shared = made[2] if language == "en" else top
            link = client.post(f"/api/v1/edits/{shared['id']}/share").json()["url"]

            page = open_studio(browser, gaitu, language)
            expect(page.locator(".edit-card .pair").first).to_have_attribute("data-view", "compare")
            settle(page)
            shoot(page, out, f"studio-{language}")

            page.goto(f"{gaitu.url}/gallery/")
            settle(page)
            shoot(page, out, f"gallery-{language}")
            page.context.close()

            stranger = browser.new_context(locale=LOCALES[language], viewport=DESKTOP).new_page()
            stranger.goto(link)
            settle(stranger)
            shoot(stranger, out, f"shared-{language}")
            stranger.context.close()

            phone = open_studio(browser, gaitu, language, viewport=PHONE)
            settle(phone)
            shoot(phone, out, f"studio-phone-{language}")
            phone.context.close()

        # The dark colour scheme, on the desktop and on a phone; the lightbox over the studio.
        page = open_studio(browser, gaitu, "en", scheme="dark")
        settle(page)
        shoot(page, out, "studio-dark-en")
        opener = page.locator(".edit-card button[data-lightbox-open]").first
        opener.click()
        dialog = page.locator("dialog[open]")
        expect(dialog).to_be_visible()
        settle(page)
        shoot(page, out, "lightbox-dark-en")
        page.context.close()
        phone = open_studio(browser, gaitu, "zh", viewport=PHONE, scheme="dark")
        settle(phone)
        shoot(phone, out, "studio-phone-dark-zh")
        phone.context.close()

        # An edit on its way, sent from the page.
        page = open_studio(browser, gaitu, "en")
        page.set_input_files(
            "#id_images", {"name": "city.jpg", "mimeType": "image/jpeg", "buffer": pictures["city"]}
        )
        page.locator("[data-preset]").nth(1).click()  # "Blue sky"
        page.locator("#upload-form button[type=submit]").click()
        card = page.locator(".edit-card").first
        expect(card.locator(".stage")).to_contain_text("%", timeout=EDIT_TIMEOUT)
        settle(page)
        shoot(page, out, "studio-progress-en")
        expect(card).to_have_attribute("data-status", "succeeded", timeout=EDIT_TIMEOUT)
        page.context.close()
        browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else OUT)
