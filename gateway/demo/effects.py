"""What the demo gateway does to a picture: simple words in the instruction, done with Pillow."""

import re
from collections.abc import Callable

from PIL import Image, ImageEnhance, ImageFilter, ImageOps

Operation = Callable[[Image.Image], Image.Image]


def _sepia(image: Image.Image) -> Image.Image:
    return ImageOps.colorize(ImageOps.grayscale(image), "#2e1f10", "#f3e3c3")


def _watercolour(image: Image.Image) -> Image.Image:
    soft = image.filter(ImageFilter.GaussianBlur(max(1, image.width // 400)))
    return ImageEnhance.Color(ImageOps.posterize(soft, 4)).enhance(1.3)


def _sketch(image: Image.Image) -> Image.Image:
    edges = ImageOps.grayscale(image).filter(ImageFilter.FIND_EDGES)
    return ImageOps.invert(ImageOps.autocontrast(edges)).convert("RGB")


# (words that ask for it, English name, what it does), in the order they are applied.
OPERATIONS: list[tuple[tuple[str, ...], str, Operation]] = [
    (("rotate", "旋转"), "rotate", lambda im: im.rotate(-90, expand=True)),
    (("mirror", "flip", "镜像", "翻转"), "mirror", ImageOps.mirror),
    (
        ("grayscale", "greyscale", "black and white", "黑白", "灰度"),
        "grayscale",
        lambda im: ImageOps.grayscale(im).convert("RGB"),
    ),
    (("sepia", "vintage", "复古", "怀旧"), "sepia", _sepia),
    (("invert", "negative", "反色", "负片"), "invert", ImageOps.invert),
    (
        ("blur", "模糊"),
        "blur",
        lambda im: im.filter(ImageFilter.GaussianBlur(max(2, max(im.size) // 150))),
    ),
    (("sharpen", "锐化"), "sharpen", lambda im: im.filter(ImageFilter.SHARPEN)),
    (
        ("brighter", "brighten", "lighter", "变亮", "提亮", "亮一点"),
        "brighter",
        lambda im: ImageEnhance.Brightness(im).enhance(1.4),
    ),
    (
        ("darker", "darken", "变暗", "暗一点"),
        "darker",
        lambda im: ImageEnhance.Brightness(im).enhance(0.6),
    ),
    (("contrast", "对比"), "contrast", lambda im: ImageEnhance.Contrast(im).enhance(1.5)),
    (("watercolo", "水彩"), "watercolour", _watercolour),
    (("sketch", "pencil", "素描"), "sketch", _sketch),
]
FALLBACK = ("vivid", lambda im: ImageEnhance.Color(im).enhance(1.6))

PROGRESS = "5..12..19..27..38..46..58..67..75..83..91.."
DIRECTIVE = re.compile(r"\[demo:([a-z]+)(?:=([\w.]+))?\]", re.IGNORECASE)
CJK = re.compile(r"[\u4e00-\u9fff]")


def apply_instruction(image: Image.Image, instruction: str) -> tuple[Image.Image, list[str]]:
    """Edit the picture by the words found in the instruction; returns it and what was done."""
    lowered = instruction.lower()
    image = image.convert("RGB")
    done = []
    for words, name, operation in OPERATIONS:
        if any(word in lowered for word in words):
            image = operation(image)
            done.append(name)
    if not done:
        name, operation = FALLBACK
        image = operation(image)
        done.append(name)
    return image, done


def parse_directives(instruction: str) -> dict[str, str]:
    return {key.lower(): value or "" for key, value in DIRECTIVE.findall(instruction)}
