"""What the demo gateway draws from words alone: a scene, or a gradient and a pattern.

Deterministic: the same words (and variant) give the same picture, so tests and screenshots
can rely on it, while the words choose what it looks like. Only Pillow's shapes are drawn, no
text, so nothing depends on the fonts a machine has. A 1024² picture takes some tens of
milliseconds: shapes are drawn once at full size, and the one blur (soft clouds) on a mask.
"""

import colorsys
import hashlib
import random
import re
from collections.abc import Callable

from PIL import Image, ImageDraw, ImageFilter

Colour = tuple[int, int, int]
Painter = Callable[[Image.Image, random.Random, Callable[[Colour], Colour]], None]

# (scene, words that ask for it), the first found wins: "a sunset over the sea" is a sunset,
# "the night sky" a night. English words whole (no "sea" in "season"), Chinese as they come.
SCENE_WORDS: list[tuple[str, tuple[str, ...]]] = [
    ("sunset", ("sunset", "sunrise", "dusk", "dawn", "日落", "夕阳", "黄昏", "日出", "晚霞")),
    ("night", ("night", "stars?", "moon", "夜", "星", "月亮", "月光")),
    ("sea", ("sea", "ocean", "beach", "waves?", "lake", "海", "湖", "浪", "沙滩")),
    ("mountain", ("mountains?", "snow", "hills?", "peaks?", "山", "雪")),
    ("forest", ("forest", "trees?", "woods?", "jungle", "森林", "树", "林")),
    ("sky", ("sky", "clouds?", "天空", "云", "蓝天")),
]


def scene_for(words: str) -> str | None:
    """The scene the words ask for, or None (a gradient and a pattern)."""
    lowered = words.lower()
    for scene, asking in SCENE_WORDS:
        for word in asking:
            if word.isascii():
                if re.search(rf"\b{word}\b", lowered):
                    return scene
            elif word in lowered:
                return scene
    return None


def draw(words: str, size: tuple[int, int], variant: int = 0) -> Image.Image:
    """A picture of `size` from the words; another variant is the same idea, shifted in hue
    and laid out anew."""
    digest = hashlib.sha256(f"{variant}\n{words}".encode()).digest()
    rng = random.Random(int.from_bytes(digest[:8], "big"))  # noqa: S311 - a picture, no secret
    # Variants differ in hue by a clear step, so several results are told apart at a glance.
    hue_shift = (variant * 0.13) % 1.0

    def tint(colour: Colour) -> Colour:
        return _shifted(colour, hue_shift)

    image = Image.new("RGB", size)
    scene = scene_for(words)
    painter = SCENES[scene] if scene else _pattern
    painter(image, rng, tint)
    return image


def _shifted(colour: Colour, hue_shift: float) -> Colour:
    if not hue_shift:
        return colour
    h, s, v = colorsys.rgb_to_hsv(*(channel / 255 for channel in colour))
    r, g, b = colorsys.hsv_to_rgb((h + hue_shift) % 1.0, s, v)
    return round(r * 255), round(g * 255), round(b * 255)


def _gradient(
    image: Image.Image, top: Colour, bottom: Colour, box: tuple[int, int, int, int] | None = None
) -> None:
    """A vertical gradient from `top` to `bottom` over the box (the whole picture)."""
    left, upper, right, lower = box or (0, 0, *image.size)
    size = (right - left, max(1, lower - upper))
    # Black at the top, white at the bottom; bilinear is smooth enough and several times quicker.
    mask = Image.linear_gradient("L").resize(size, Image.Resampling.BILINEAR)
    image.paste(Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), mask),
                (left, upper))  # fmt: skip


def _sky(image: Image.Image, rng: random.Random, tint: Callable[[Colour], Colour]) -> None:
    _gradient(image, tint((36, 104, 196)), tint((176, 214, 246)))
    _clouds(image, rng, 0.0, 0.7)


def _clouds(image: Image.Image, rng: random.Random, top: float, bottom: float) -> None:
    width, height = image.size
    mask = Image.new("L", image.size, 0)
    pen = ImageDraw.Draw(mask)
    for _ in range(rng.randint(3, 6)):
        x, y = rng.uniform(0, width), rng.uniform(top * height, bottom * height)
        puff = rng.uniform(0.05, 0.1) * max(width, height)
        for _ in range(rng.randint(4, 7)):
            dx, dy = rng.uniform(-1.6, 1.6) * puff, rng.uniform(-0.4, 0.4) * puff
            r = puff * rng.uniform(0.6, 1.1)
            pen.ellipse((x + dx - r, y + dy - r * 0.7, x + dx + r, y + dy + r * 0.7), fill=235)
    # Blurred small and scaled up: as soft, and far quicker than a blur at full size.
    small = mask.resize((max(1, width // 8), max(1, height // 8)))
    soft = small.filter(ImageFilter.GaussianBlur(2)).resize(image.size, Image.Resampling.BILINEAR)
    image.paste(Image.new("RGB", image.size, (255, 255, 255)), mask=soft)


def _sea(image: Image.Image, rng: random.Random, tint: Callable[[Colour], Colour]) -> None:
    width, height = image.size
    horizon = round(height * rng.uniform(0.4, 0.55))
    _gradient(image, tint((70, 140, 215)), tint((200, 226, 246)), (0, 0, width, horizon))
    _clouds(image, rng, 0.05, horizon / height * 0.7)
    _gradient(image, tint((28, 110, 168)), tint((8, 44, 96)), (0, horizon, width, height))
    pen = ImageDraw.Draw(image)
    crest = tint((150, 200, 230))
    rows = rng.randint(7, 11)
    for row in range(1, rows):
        y = horizon + (height - horizon) * (row / rows) ** 1.5
        step = width / rng.randint(6, 14)
        x = -rng.uniform(0, step)
        while x < width:
            pen.arc((x, y - step * 0.15, x + step, y + step * 0.15), 200, 340, crest,
                    max(1, height // 300))  # fmt: skip
            x += step * rng.uniform(1.1, 1.8)


def _sunset(image: Image.Image, rng: random.Random, tint: Callable[[Colour], Colour]) -> None:
    width, height = image.size
    horizon = round(height * rng.uniform(0.6, 0.72))
    _gradient(image, tint((72, 36, 110)), tint((250, 150, 70)), (0, 0, width, horizon))
    pen = ImageDraw.Draw(image)
    sun_x, radius = rng.uniform(0.25, 0.75) * width, min(width, height) * rng.uniform(0.1, 0.16)
    pen.ellipse((sun_x - radius, horizon - radius * 1.2, sun_x + radius, horizon + radius * 0.8),
                fill=tint((255, 214, 110)))  # fmt: skip
    _hills(image, rng, horizon, tint((48, 24, 52)), tint((30, 14, 34)))


def _hills(image: Image.Image, rng: random.Random, horizon: int, far: Colour, near: Colour) -> None:
    width, height = image.size
    pen = ImageDraw.Draw(image)
    for colour, lift in ((far, 0.04), (near, -0.02)):
        points = [(0.0, float(height))]
        for step in range(9):
            points.append((width * step / 8, horizon - height * rng.uniform(-0.02, lift + 0.05)))
        points.append((float(width), float(height)))
        pen.polygon(points, fill=colour)


def _night(image: Image.Image, rng: random.Random, tint: Callable[[Colour], Colour]) -> None:
    width, height = image.size
    _gradient(image, tint((6, 10, 38)), tint((34, 44, 96)))
    pen = ImageDraw.Draw(image)
    dot = max(1, min(width, height) // 400)
    for _ in range(rng.randint(120, 220)):
        x, y, r = rng.uniform(0, width), rng.uniform(0, height * 0.8), dot * rng.uniform(0.5, 2)
        pen.ellipse((x - r, y - r, x + r, y + r), fill=(255, 255, 240))
    moon_x, moon_y = rng.uniform(0.2, 0.8) * width, rng.uniform(0.12, 0.3) * height
    radius = min(width, height) * 0.08
    pen.ellipse((moon_x - radius, moon_y - radius, moon_x + radius, moon_y + radius),
                fill=(250, 246, 214))  # fmt: skip
    _hills(image, rng, round(height * 0.82), tint((16, 20, 44)), (8, 10, 22))


def _mountain(image: Image.Image, rng: random.Random, tint: Callable[[Colour], Colour]) -> None:
    width, height = image.size
    _gradient(image, tint((96, 150, 214)), tint((214, 230, 244)))
    pen = ImageDraw.Draw(image)
    for row, colour in enumerate((tint((110, 120, 150)), tint((70, 84, 110)))):
        base = height * (0.8 + row * 0.1)
        x = -rng.uniform(0, width * 0.2)
        while x < width:
            span = width * rng.uniform(0.25, 0.45)
            peak = (x + span / 2, height * rng.uniform(0.22, 0.45) + row * height * 0.12)
            pen.polygon([(x, base), peak, (x + span, base)], fill=colour)
            cap = 0.22  # the snow: the top of the same triangle
            left = (peak[0] - span / 2 * cap, peak[1] + (base - peak[1]) * cap)
            right = (peak[0] + span / 2 * cap, left[1])
            pen.polygon([left, peak, right], fill=(246, 248, 252))
            x += span * rng.uniform(0.5, 0.8)
    pen.rectangle((0, round(height * 0.88), width, height), fill=tint((70, 110, 60)))


def _forest(image: Image.Image, rng: random.Random, tint: Callable[[Colour], Colour]) -> None:
    width, height = image.size
    ground = round(height * rng.uniform(0.62, 0.7))
    _gradient(image, tint((150, 196, 230)), tint((226, 238, 220)), (0, 0, width, ground))
    _gradient(image, tint((86, 140, 60)), tint((40, 82, 34)), (0, ground, width, height))
    pen = ImageDraw.Draw(image)
    greens = [tint(colour) for colour in ((34, 96, 48), (22, 74, 40), (48, 118, 58))]
    for row in range(3):  # far rows first, so nearer trees stand in front
        base = ground + (height - ground) * row / 3
        tall = height * (0.18 + row * 0.08)
        for _ in range(rng.randint(7, 12)):
            x = rng.uniform(0, width)
            half = tall * rng.uniform(0.22, 0.32)
            trunk = half * 0.18
            pen.rectangle((x - trunk, base - tall * 0.15, x + trunk, base), fill=(84, 56, 34))
            pen.polygon([(x - half, base - tall * 0.12), (x, base - tall), (x + half,
                         base - tall * 0.12)], fill=rng.choice(greens))  # fmt: skip


def _pattern(image: Image.Image, rng: random.Random, tint: Callable[[Colour], Colour]) -> None:
    """No scene in the words: a gradient between two colours of the words' own, and a pattern."""
    width, height = image.size
    hue = rng.random()
    top = _hsv(hue, 0.55, 0.95)
    bottom = _hsv((hue + rng.uniform(0.15, 0.45)) % 1.0, 0.7, 0.55)
    _gradient(image, tint(top), tint(bottom))
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    pen = ImageDraw.Draw(overlay)
    ink = (*tint(_hsv((hue + 0.5) % 1.0, 0.5, 1.0)), 90)
    kind = rng.choice(("circles", "stripes", "grid", "triangles"))
    cell = max(width, height) / rng.randint(5, 12)
    if kind == "stripes":
        for start in range(-height, width, max(8, round(cell))):
            pen.line([(start, height), (start + height, 0)], ink, max(2, round(cell / 3)))
    else:
        for row in range(int(height / cell) + 2):
            for column in range(int(width / cell) + 2):
                x, y = column * cell, row * cell
                if kind == "circles":
                    r = cell * rng.uniform(0.15, 0.45)
                    pen.ellipse((x - r, y - r, x + r, y + r), fill=ink)
                elif kind == "grid":
                    pen.rectangle((x, y, x + cell * 0.8, y + cell * 0.8), outline=ink,
                                  width=max(2, round(cell / 12)))  # fmt: skip
                else:
                    pen.polygon([(x, y + cell), (x + cell / 2, y), (x + cell, y + cell)], ink)
    image.paste(overlay, mask=overlay)


def _hsv(hue: float, saturation: float, value: float) -> Colour:
    r, g, b = colorsys.hsv_to_rgb(hue, saturation, value)
    return round(r * 255), round(g * 255), round(b * 255)


SCENES: dict[str, Painter] = {
    "sky": _sky,
    "sea": _sea,
    "sunset": _sunset,
    "night": _night,
    "mountain": _mountain,
    "forest": _forest,
}
