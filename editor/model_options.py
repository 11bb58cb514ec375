"""Which options each model honours, and how its gateways take them: the one place for it.

Defaults by model name below; the owner overrides or adds models with GAITU_MODEL_OPTIONS,
a JSON object from a model name (or a prefix ending in "*") to a ModelStyle's fields, e.g.
{"my-relay-image": {"size": "size", "n": "n", "quality": true}}.
"""

from collections.abc import Mapping
from fnmatch import fnmatchcase

from django.conf import settings

from gateway.options import DEFAULT_STYLE, ModelStyle

# First match wins, so the more particular names come first. What each way means:
# gateway/options.py ModelStyle.
DEFAULT_STYLES: list[tuple[str, ModelStyle]] = [
    # Resellers' chat models read a parameter block ({"ratio": "16:9", "n": 2}) from the
    # prompt, and echo it back (see the F1 replies in reference/upstream-formats.md).
    ("gpt-image-1-vip*", ModelStyle(size="prompt", n="prompt")),
    ("gpt-4o-image*", ModelStyle(size="prompt", n="prompt")),
    ("gpt-4o-all*", ModelStyle(size="prompt", n="prompt")),
    ("sora*image*", ModelStyle(size="prompt", n="prompt")),
    # Flux Kontext reads the ratio from the block too, but makes one picture a request
    # (Black Forest Labs' API has no count): several are asked side by side. Names vary:
    # flux-kontext-pro, flux.1-kontext-max, flux-1-kontext-dev.
    ("flux*kontext*", ModelStyle(size="prompt", n="parallel")),
    # The images models, relayed through chat: the body's size, n and quality.
    ("gpt-image-*", ModelStyle(size="size", n="n", quality=True)),
    # DALL·E 3 makes one picture a request, and its quality is "standard" or "hd", not the
    # low/medium/high offered, so none is sent; DALL·E 2 has no quality either.
    ("dall-e-*", ModelStyle(size="size", n="parallel")),
    # Seedream takes any WIDTHxHEIGHT in its range; several pictures are its own sequential
    # mode, not n, so they are asked side by side.
    ("*seedream*", ModelStyle(size="size", n="parallel")),
    # Gemini's image models make one picture a request and take an aspect ratio.
    ("gemini-*image*", ModelStyle(size="aspect_ratio", n="parallel")),
    ("*nano-banana*", ModelStyle(size="aspect_ratio", n="parallel")),
]
# A model nobody has described: the size in the prompt, one picture a request. A gateway that
# does not read the block sees a line of JSON after the instruction, which models take in stride.
UNKNOWN_STYLE = DEFAULT_STYLE


def style_for(model: str) -> ModelStyle:
    """How `model` takes the options: the owner's setting, else the default for its name.

    A router's provider prefix (OpenRouter's google/gemini-2.5-flash-image, fal-ai/…) is
    looked past when the whole name matches nothing."""
    names = {model.lower(), model.lower().rpartition("/")[2]}
    for pattern, style in [*_configured(), *DEFAULT_STYLES]:
        if any(fnmatchcase(name, pattern.lower()) for name in names):
            return style
    return UNKNOWN_STYLE


def _configured() -> list[tuple[str, ModelStyle]]:
    # An entry that does not make a ModelStyle is left out rather than raised: one mistyped
    # entry must not stop every edit. misconfigured() names it, for a system check.
    return _read_configured()[0]


def misconfigured() -> list[str]:
    """The GAITU_MODEL_OPTIONS entries that are left out, each with what is wrong with it."""
    return _read_configured()[1]


def _read_configured() -> tuple[list[tuple[str, ModelStyle]], list[str]]:
    styles, problems = [], []
    # Typed as objects of fields, but read from JSON, where any value may be given.
    configured: Mapping[str, object] = settings.GAITU_MODEL_OPTIONS
    for pattern, fields in configured.items():
        if not isinstance(fields, dict):
            problems.append(f"{pattern!r}: not an object of a style's fields")
            continue
        try:
            styles.append((str(pattern), ModelStyle(**fields)))
        except (TypeError, ValueError) as exc:
            problems.append(f"{pattern!r}: {exc}")
    return styles, problems


def offered_options(model: str) -> dict[str, bool]:
    """What the studio offers for `model`: sizes, several results (always: made side by side
    where the model can't), quality."""
    style = style_for(model)
    return {"size": style.size != "none", "n": True, "quality": style.quality}
