"""The design system's colours meet WCAG AA contrast in both schemes, worked out from the tokens
in static/gaitu/gaitu.css themselves (the light :root and the dark one), for the pairs the
style sheets put together: text 4.5:1 (1.4.3), and 3:1 for what shows a control's edge and
the focus ring (1.4.11). The browser tests' axe-core audit measures the pages as drawn; this
covers every pair the tokens allow, on a page or not."""

import re

import pytest

from tests.support.live import ROOT

CSS = ROOT / "static" / "gaitu" / "gaitu.css"

TEXT = 4.5
NON_TEXT = 3.0
SURFACES = ("--bg", "--card", "--surface-2")
# (foreground, background, the ratio it needs, what it is for)
STATUS = ("--accent", "--ok", "--bad", "--warn")  # links, and the words of a state
# (foreground, background, the ratio it needs, what it is for)
PAIRS = [
    *((text, surface, TEXT, "text") for text in ("--fg", "--muted") for surface in SURFACES),
    *((text, surface, TEXT, "coloured text") for text in STATUS for surface in SURFACES),
    ("--accent-fg", "--accent", TEXT, "a primary button's label"),
    ("--bad-fg", "--bad", TEXT, "a danger button's label"),
    *(("--focus", surface, NON_TEXT, "the focus ring") for surface in SURFACES),
    *(("--line-strong", surface, NON_TEXT, "a control's edge") for surface in ("--card", "--bg")),
]


def root_blocks(css: str) -> dict[str, dict[str, str]]:
    """The custom properties of the light :root, and of the :root inside the dark media query
    (laid over the light ones)."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    light = re.search(r"(?<![\w-]):root\s*\{([^}]*)\}", css)
    dark = re.search(r"@media\s*\(prefers-color-scheme:\s*dark\)\s*\{\s*:root\s*\{([^}]*)\}", css)
    assert light and dark, "gaitu.css has no light :root or no dark one"
    light_tokens = properties(light.group(1))
    return {"light": light_tokens, "dark": {**light_tokens, **properties(dark.group(1))}}


def properties(block: str) -> dict[str, str]:
    return {name: value.strip() for name, value in re.findall(r"(--[\w-]+)\s*:\s*([^;]+)", block)}


def colour(value: str, tokens: dict[str, str]) -> tuple[float, float, float]:
    """sRGB 0–255 of #rgb, #rrggbb, rgb(), a var() and color-mix(in srgb, …) of those."""
    value = value.strip()
    if found := re.fullmatch(r"var\((--[\w-]+)(?:,\s*(.+))?\)", value):
        name, fallback = found.groups()
        return colour(tokens.get(name, fallback), tokens)
    if found := re.fullmatch(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})", value):
        digits = found.group(1)
        if len(digits) == 3:
            digits = "".join(d * 2 for d in digits)
        return tuple(int(digits[i : i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]
    if found := re.fullmatch(r"rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)\s*\)", value):
        return tuple(float(part) for part in found.groups())  # type: ignore[return-value]
    if found := re.fullmatch(r"color-mix\(in srgb,\s*(.+?)\s+([\d.]+)%,\s*(.+?)\)", value):
        first, share, second = found.groups()
        a, b, weight = colour(first, tokens), colour(second, tokens), float(share) / 100
        return tuple(x * weight + y * (1 - weight) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]
    raise AssertionError(f"a colour this check cannot read: {value!r}")


def luminance(rgb: tuple[float, float, float]) -> float:
    def linear(channel: float) -> float:
        channel /= 255
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(channel) for channel in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def ratio(first: tuple[float, float, float], second: tuple[float, float, float]) -> float:
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_ratio_is_the_wcag_one():
    assert ratio((0, 0, 0), (255, 255, 255)) == pytest.approx(21)
    assert ratio((118, 118, 118), (255, 255, 255)) == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_token_pairs_meet_wcag_aa(scheme):
    tokens = root_blocks(CSS.read_text())[scheme]
    failing = []
    for foreground, background, needed, what in PAIRS:
        measured = ratio(colour(tokens[foreground], tokens), colour(tokens[background], tokens))
        if measured < needed:
            failing.append(
                f"{foreground} {tokens[foreground]} on {background} {tokens[background]}: "
                f"{measured:.2f}:1, {what} needs {needed:g}:1"
            )
    assert not failing, f"{scheme}: " + "; ".join(failing)
