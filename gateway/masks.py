"""A mask as each transport sends it.

The images API takes the mask as it is kept: a PNG the size of the first picture, transparent
where the picture should change. Chat and Gemini models read no mask; they are shown one, as a
picture of its own (white where to change, black where to keep, since a transparent area looks
black to most models), with a sentence that says what it is. They may not keep to it.
"""

import io

from PIL import Image

# Added to the instruction for models that are shown the mask rather than given it. English:
# the models read it best, whatever language the instruction is in.
MASK_SENTENCE = (
    "The last picture is a mask for the first one: change only the area that is white in the "
    "mask, and keep everything in its black area exactly as it is."
)


def visible_mask(mask_png: bytes) -> bytes:
    """The mask as a picture a model can look at: white where to change, black where to keep."""
    with Image.open(io.BytesIO(mask_png)) as mask:
        alpha = mask.convert("RGBA").getchannel("A")
    # Transparent (alpha 0) is the area to change: white; anything opaque stays: black.
    shown = alpha.point(lambda value: 255 if value < 128 else 0).convert("RGB")
    out = io.BytesIO()
    shown.save(out, "PNG", optimize=False)
    return out.getvalue()


def with_mask_sentence(instruction: str) -> str:
    return f"{instruction}\n\n{MASK_SENTENCE}"
