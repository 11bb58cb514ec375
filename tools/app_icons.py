"""Draw the app's icons (static/gaitu/icons/): the favicon's design, a mountain and a sun on the
accent colour, as PNGs for the web app manifest and the iPhone's home screen.

    .venv/bin/python tools/app_icons.py

Drawn at 4x and scaled down, so the edges are smooth without an SVG renderer.
"""

from pathlib import Path

from PIL import Image, ImageDraw

ICONS = Path(__file__).resolve().parents[1] / "static" / "gaitu" / "icons"
ACCENT = (217, 72, 43, 255)  # the favicon's #d9482b
WHITE = (255, 255, 255, 255)
SCALE = 4


def draw(size: int, *, rounded: bool, safe_zone: float) -> Image.Image:
    """The icon at size px; safe_zone is the share of the side the picture keeps to (the
    maskable icon keeps to the middle 80%, which every launcher's mask leaves visible)."""
    side = size * SCALE
    image = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    radius = round(side * 14 / 64) if rounded else 0
    pen.rounded_rectangle((0, 0, side - 1, side - 1), radius=radius, fill=ACCENT)

    def at(x: float, y: float) -> tuple[float, float]:  # the favicon's 64-unit grid
        margin = side * (1 - safe_zone) / 2
        unit = side * safe_zone / 64
        return margin + x * unit, margin + y * unit

    pen.polygon([at(14, 44), at(28, 26), at(38, 38), at(44, 31), at(52, 44)], fill=WHITE)
    centre_x, centre_y = at(44, 20)
    sun = 5 * side * safe_zone / 64
    pen.ellipse((centre_x - sun, centre_y - sun, centre_x + sun, centre_y + sun), fill=WHITE)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    ICONS.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        draw(size, rounded=True, safe_zone=1).save(ICONS / f"icon-{size}.png", optimize=True)
        draw(size, rounded=False, safe_zone=0.8).save(ICONS / f"maskable-{size}.png", optimize=True)
    # iOS rounds the corners itself and shows transparency as black: a full square.
    draw(180, rounded=False, safe_zone=0.9).convert("RGB").save(
        ICONS / "apple-touch-icon.png", optimize=True
    )


if __name__ == "__main__":
    main()
