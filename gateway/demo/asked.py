"""What a request asks of the demo gateway beyond its words, in whichever way it was put.

The ways Gaitu's chat transport puts options (gateway/chat/client.py), all honoured: a
parameter block on a line of the text ({"ratio": "16:9", "n": 2}, as resellers read it), the
body's "size": "WIDTHxHEIGHT" and "n", and "image_config": {"aspect_ratio": "16:9"}.
"""

import json
import re
from dataclasses import dataclass
from math import gcd

from ..options import MAX_RESULTS, pixel_size

_RATIO = re.compile(r"^(\d{1,2}):(\d{1,2})$")
GENERATED_SIDE = 1024  # a picture made from words alone: 1024x1024, or 1024 on its long side


@dataclass(frozen=True)
class Asked:
    prompt: str  # the words, without the parameter block
    pixels: tuple[int, int] | None = None  # a size in pixels, if one was asked
    ratio: tuple[int, int] | None = None  # else an aspect ratio, if one was asked
    n: int = 1

    @property
    def echo(self) -> dict:
        """The parameters as a reseller echoes them back (the F1 transcript's first block)."""
        shown: dict[str, object] = {"prompt": self.prompt}
        ratio = self.ratio
        if self.pixels:
            shown["size"] = "{}x{}".format(*self.pixels)
            divisor = gcd(*self.pixels)
            ratio = (self.pixels[0] // divisor, self.pixels[1] // divisor)
        shown["ratio"] = "{}:{}".format(*ratio) if ratio else "auto"
        shown["n"] = self.n
        return shown

    def generated_size(self) -> tuple[int, int]:
        """The size of a picture made from the words: as asked, else a square."""
        return self.pixels or _fitted(self.ratio or (1, 1), GENERATED_SIDE)

    def edited_size(self, source: tuple[int, int]) -> tuple[int, int] | None:
        """The size of an edited picture, when one was asked: a ratio keeps the source's long
        side. None: the source's own size."""
        if self.pixels:
            return self.pixels
        return _fitted(self.ratio, max(source)) if self.ratio else None


def read_asked(body: dict, instruction: str, directive_n: str = "") -> Asked:
    """What the request asks: the parameter block in the text over the body's fields, and the
    [demo:n=…] directive over both."""
    lines, block = [], {}
    for line in instruction.splitlines():
        found = _parameter_block(line)
        if found is None:
            lines.append(line)
        else:
            block.update(found)
    prompt = "\n".join(lines).strip()
    image_config = body.get("image_config")
    sizes = [
        block.get("size"),
        block.get("ratio"),
        block.get("aspect_ratio"),
        body.get("size"),
        image_config.get("aspect_ratio") if isinstance(image_config, dict) else None,
    ]
    pixels = ratio = None
    for size in (str(size) for size in sizes if size):
        pixels, ratio = pixel_size(size), _ratio(size)
        if pixels or ratio:
            break
    n = next((_count(value) for value in (directive_n, block.get("n"), body.get("n")) if value), 1)
    return Asked(prompt, pixels, ratio, n)


def _parameter_block(line: str) -> dict | None:
    """A line that is a JSON object (the parameter block), read; None for any other line."""
    line = line.strip().strip("`")
    if not (line.startswith("{") and line.endswith("}")):
        return None
    try:
        block = json.loads(line)
    except ValueError:
        return None
    return block if isinstance(block, dict) else None


def _ratio(size: str) -> tuple[int, int] | None:
    match = _RATIO.match(size.strip())
    if not match or not int(match[1]) or not int(match[2]):
        return None
    return int(match[1]), int(match[2])


def _count(value: object) -> int:
    try:
        return max(1, min(MAX_RESULTS, int(str(value))))
    except ValueError:
        return 1


def _fitted(ratio: tuple[int, int], long_side: int) -> tuple[int, int]:
    """The size of that ratio with `long_side` pixels on its longer side."""
    width, height = ratio
    if width >= height:
        return long_side, max(1, round(long_side * height / width))
    return max(1, round(long_side * width / height)), long_side
