"""The pictures the demo gateway makes, whichever API asked: drawn, edited, varied, masked.

A mask reaches the demo in one of two forms: the images API's own (a PNG, transparent where to
change) or, for chat and Gemini, a picture of its own after the others (white where to change,
black where to keep) with gateway.masks.MASK_SENTENCE in the instruction. Either way the effect
is pasted into the original only where the mask says change, so everything else stays the
original's pixels exactly; a lossless result (PNG) keeps them so on the way out.
"""

import base64
import io
from dataclasses import dataclass

from PIL import Image, ImageOps

from ..masks import MASK_SENTENCE
from .asked import Asked
from .drawing import draw, scene_for
from .effects import apply_instruction

# Output formats by the names the images API takes, with their content types.
FORMATS = {
    "png": ("PNG", "image/png"),
    "jpeg": ("JPEG", "image/jpeg"),
    "webp": ("WEBP", "image/webp"),
}
EXTENSIONS = {"png": "png", "jpeg": "jpg", "webp": "webp"}


class UnreadablePicture(ValueError):
    """A picture (or a mask) the demo cannot open."""


@dataclass(frozen=True)
class Made:
    pictures: list[Image.Image]
    done: list[str]  # what was done ("sepia", "mirror"), or the scene drawn


def open_picture(data: bytes) -> Image.Image:
    try:
        picture = Image.open(io.BytesIO(data))
        picture.load()
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise UnreadablePicture(str(exc)) from exc
    return picture


def has_mask_sentence(instruction: str) -> bool:
    return MASK_SENTENCE in instruction


def without_mask_sentence(instruction: str) -> str:
    return instruction.replace(MASK_SENTENCE, "").strip()


def area_from_alpha(mask: Image.Image) -> Image.Image:
    """The images API's mask as the area to change: 255 where transparent, 0 where opaque."""
    alpha = mask.convert("RGBA").getchannel("A")
    return alpha.point(lambda value: 255 if value < 128 else 0)


def area_from_visible(mask: Image.Image, size: tuple[int, int]) -> Image.Image:
    """A mask shown as a picture (white change, black keep) as the area to change, at `size`.

    Chat and Gemini models take whatever they are shown; the demo, like them, does not refuse
    a mask of another size but stretches it over the picture."""
    grey = ImageOps.grayscale(mask.convert("RGB"))
    if grey.size != size:
        grey = grey.resize(size, Image.Resampling.NEAREST)
    return grey.point(lambda value: 255 if value >= 128 else 0)


def make(asked: Asked, pictures: list[Image.Image], area: Image.Image | None = None) -> Made:
    """The pictures made, as many as asked, of the asked size; and what was done.

    From a picture: edited by the words, its variants mirrored and shifted in hue, all of it
    only inside `area` (255 = change) when there is one. From the words alone: drawn, each
    variant of its own."""
    if not pictures:
        size = asked.generated_size()
        drawn = [draw(asked.prompt, size, variant) for variant in range(asked.n)]
        return Made(drawn, [scene_for(asked.prompt) or "pattern"])
    original = pictures[0].convert("RGB")
    edited, done = apply_instruction(original, asked.prompt)
    variants = [_varied(edited, variant) for variant in range(asked.n)]
    if area is not None:
        # A turn or a crop changes the shape: fitted back, so the effect lands in the area.
        variants = [
            Image.composite(ImageOps.fit(variant, original.size), original, area)
            for variant in variants
        ]
    if asked_size := asked.edited_size(variants[0].size):
        variants = [ImageOps.fit(variant, asked_size) for variant in variants]
    return Made(variants, done)


def _varied(image: Image.Image, variant: int) -> Image.Image:
    """The edited picture itself (0), mirrored (1), shifted in hue (2), both (3)."""
    if variant >= 2:
        hue, saturation, value = image.convert("HSV").split()
        hue = hue.point(lambda level: (level + 64) % 256)
        image = Image.merge("HSV", (hue, saturation, value)).convert("RGB")
    return ImageOps.mirror(image) if variant % 2 else image


def encode(image: Image.Image, output_format: str = "png") -> bytes:
    """The picture in one of FORMATS (png, jpeg, webp)."""
    pillow_format, _ = FORMATS[output_format]
    out = io.BytesIO()
    if pillow_format == "PNG":
        image.save(out, "PNG")
    else:
        image.convert("RGB").save(out, pillow_format, quality=90)
    return out.getvalue()


def partial(image: Image.Image, step: int, steps: int) -> Image.Image:
    """A partial picture while it is being made: coarse at first, finer with every step."""
    width, height = image.size
    scale = 2 ** (steps - step + 2)  # 1/16, 1/8, 1/4 of the size for three steps
    small = image.resize((max(1, width // scale), max(1, height // scale)))
    return small.resize(image.size, Image.Resampling.NEAREST)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
