"""What a person may ask of a picture beyond the instruction, and how a model takes it.

Pure data: the app decides which options a model honours (editor/model_options.py); the
chat transport puts them into the request the way that model's gateways understand them.
"""

import re
from dataclasses import asdict, dataclass
from math import gcd

# The aspect ratios offered by name; any other size is "WIDTHxHEIGHT" in pixels.
RATIOS = ("1:1", "3:2", "2:3", "16:9", "9:16")
QUALITIES = ("low", "medium", "high")
MAX_RESULTS = 4
# A custom size: each side in this range, in pixels.
MIN_SIDE, MAX_SIDE = 256, 4096

_PIXEL_SIZE = re.compile(r"^(\d{2,5})x(\d{2,5})$")


@dataclass(frozen=True)
class RequestOptions:
    size: str = ""  # "" (the model's own default), one of RATIOS, or "WIDTHxHEIGHT"
    n: int = 1  # results wanted, 1..MAX_RESULTS
    quality: str = ""  # "" (the model's own default) or one of QUALITIES

    def __post_init__(self) -> None:
        if self.size and self.size not in RATIOS and pixel_size(self.size) is None:
            raise ValueError(f"unknown size {self.size!r}")
        if not 1 <= self.n <= MAX_RESULTS:
            raise ValueError(f"n must be 1..{MAX_RESULTS}")
        if self.quality and self.quality not in QUALITIES:
            raise ValueError(f"unknown quality {self.quality!r}")

    @classmethod
    def from_json(cls, data: dict | None) -> "RequestOptions":
        """Options as kept with an edit (Edit.options); what is not understood is dropped."""
        data = data or {}
        try:
            return cls(
                size=str(data.get("size") or ""),
                n=int(data.get("n") or 1),
                quality=str(data.get("quality") or ""),
            )
        except (TypeError, ValueError):
            return cls()

    def as_json(self) -> dict:
        """Only what differs from the defaults, so an edit with none keeps {}."""
        return {key: value for key, value in asdict(self).items() if value != getattr(DEFAULT, key)}

    @property
    def ratio(self) -> str:
        """The size as an aspect ratio ("16:9"; a pixel size reduced, "1024x768" -> "4:3")."""
        if not self.size or self.size in RATIOS:
            return self.size
        width, height = pixel_size(self.size) or (1, 1)
        divisor = gcd(width, height)
        return f"{width // divisor}:{height // divisor}"


DEFAULT = RequestOptions()


# A named ratio as pixels, for gateways that take only "WIDTHxHEIGHT" (style size "size").
# These are the sizes OpenAI's image models name, which the relays of gpt-image-1, DALL·E and
# Seedream pass on: 1024x1024, 1536x1024 and 1024x1536 are gpt-image-1's own; 16:9 and 9:16
# have no exact OpenAI size, so they are DALL·E 3's wide and tall 1792x1024 / 1024x1792
# (7:4, the nearest any of them comes). gpt-image-1 on OpenAI itself refuses those two; an owner
# whose gateway does can ask for a pixel size instead.
STANDARD_PIXELS = {
    "1:1": "1024x1024",
    "3:2": "1536x1024",
    "2:3": "1024x1536",
    "16:9": "1792x1024",
    "9:16": "1024x1792",
}


def pixels_for(size: str) -> str:
    """The size as "WIDTHxHEIGHT": a named ratio as its standard size, a pixel size as it is."""
    return STANDARD_PIXELS.get(size, size)


def pixel_size(size: str) -> tuple[int, int] | None:
    """(width, height) of a "WIDTHxHEIGHT" size within MIN_SIDE..MAX_SIDE; None otherwise."""
    match = _PIXEL_SIZE.match(size)
    if not match:
        return None
    width, height = int(match[1]), int(match[2])
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        return None
    return width, height


@dataclass(frozen=True)
class ModelStyle:
    """How one model takes the options in a chat request.

    size:    "prompt"       a parameter block after the instruction ({"ratio": "16:9"}), as
                            resellers of gpt-4o-image, sora_image and flux-kontext read it
             "size"         the body's "size": "WIDTHxHEIGHT" (gpt-image-1 and DALL·E gateways)
             "aspect_ratio" the body's "image_config": {"aspect_ratio": "16:9"} (Gemini image
                            models through OpenRouter-style gateways)
             "none"         the model has no size; none is offered
    n:       "n"            the body's "n"
             "prompt"       "n" in the parameter block
             "parallel"     one request per picture, sent side by side
    quality: whether the body's "quality" is honoured (and so offered)
    """

    size: str = "prompt"
    n: str = "parallel"
    quality: bool = False

    SIZE_WAYS = ("prompt", "size", "aspect_ratio", "none")
    N_WAYS = ("n", "prompt", "parallel")

    def __post_init__(self) -> None:
        if self.size not in self.SIZE_WAYS or self.n not in self.N_WAYS:
            raise ValueError(f"unknown model style {self!r}")
        if not isinstance(self.quality, bool):  # "false" from a setting would read as true
            raise ValueError(f"quality must be true or false, not {self.quality!r}")


# A model nobody has described: the size in the prompt, one picture a request.
DEFAULT_STYLE = ModelStyle()
