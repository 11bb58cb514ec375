"""Pictures for the model and for thumbnails: upright, sRGB, small, without metadata.

Animated GIF, WebP and PNG files are accepted, and the first frame is the picture: it is what
the model is sent and what the thumbnail shows.
"""

import io
from typing import IO, cast

from PIL import Image, ImageCms, ImageMath

from .types import EXIF_ORIENTATION, OPENERS, PICTURE_WORK

THUMBNAIL_SIDE = 480
# The before/after's rendition: sharp on a 2x screen up to an 800 px wide picture, a fraction
# of a phone photo's bytes.
DISPLAY_SIDE = 1600
DISPLAY_QUALITY = 82
# A display rendition is made of a still a little larger than itself (a 12-megapixel photo is
# decoded at 2000 px for the model and shown at 1600): at that ratio bicubic looks the same as
# Lanczos, in 47 ms where Lanczos takes 66.
DISPLAY_RESAMPLING = Image.Resampling.BICUBIC
# How far below max_side a JPEG may be sent, when decoding it at 1/2, 1/4 or 1/8 scale gets
# there without a resize: a 24-megapixel camera's 6000x4000 is decoded at 1/4 (1500x1000)
# rather than at 1/2 and resized to 2048, a quarter of the decoding and no resize. Image models
# work at 1024 to 1536 pixels, so what they are sent loses nothing they would have used.
DRAFT_SLACK = 0.7


def make_thumbnail(file: IO[bytes], side: int = THUMBNAIL_SIDE) -> bytes:
    """A small still WebP for grids and cards: first frame, upright, sRGB, without metadata."""
    file.seek(0)
    with PICTURE_WORK, Image.open(file, formats=OPENERS) as image:
        return _encode_still(_still_upright(image, side), side)


def shape_with_still(file: IO[bytes], max_side: int) -> tuple[bytes, str, Image.Image]:
    """The picture as the model should see it: upright, at most max_side, sRGB, no metadata,
    encoded (bytes, content type); and the shaped still itself, which makes the thumbnail
    (thumbnail_of) without decoding a big photo a second time.

    Only the first frame of an animated GIF, WebP or PNG is used (a still is sent). JPEGs are
    decoded at a reduced scale straight away (draft mode), which is what keeps a 24-megapixel
    photo cheap in time and memory. Transparency is kept (sent as PNG); everything else goes as
    a JPEG.
    """
    file.seek(0)
    with PICTURE_WORK, Image.open(file, formats=OPENERS) as image:
        still = _still_upright(image, max_side, slack=DRAFT_SLACK)
        return *_encode_for_sending(still), still


def thumbnail_of(still: Image.Image, side: int = THUMBNAIL_SIDE) -> bytes:
    """make_thumbnail of a picture already decoded (by shape_with_still)."""
    with PICTURE_WORK:
        return _encode_still(still, side)


def display_of(still: Image.Image, side: int = DISPLAY_SIDE) -> tuple[bytes, str]:
    """The display rendition of a picture already decoded, and its content type: a still of
    at most `side` pixels on its long side (never enlarged), upright, sRGB, without metadata.

    A JPEG, unless the picture has transparency (then a WebP). The renditions were the
    worker's largest cost: at 1600 px libjpeg-turbo encodes a photo in 6 ms where WebP took
    82 ms (method 2) or 46 ms (method 0), for a file about a fifth larger (273 KiB against
    227 on a 12-megapixel photo). Thumbnails, which a gallery loads by the dozen, stay WebP.
    """
    with PICTURE_WORK:
        picture = _fitted(still, side, DISPLAY_RESAMPLING)
        out = io.BytesIO()
        if picture.mode == "RGBA":
            picture.save(out, "WEBP", quality=DISPLAY_QUALITY, method=2)
            return out.getvalue(), "image/webp"
        picture.save(out, "JPEG", quality=DISPLAY_QUALITY)
        return out.getvalue(), "image/jpeg"


def decode_still(file: IO[bytes], side: int = DISPLAY_SIDE) -> Image.Image:
    """The picture decoded once for its thumbnail and display rendition (thumbnail_of,
    display_of): first frame, upright, sRGB, at most `side` pixels."""
    file.seek(0)
    with PICTURE_WORK, Image.open(file, formats=OPENERS) as image:
        still = _still_upright(image, side, resample=DISPLAY_RESAMPLING)
        still.load()  # a picture already small enough may be the opened one, not read yet
        return still


def _encode_still(still: Image.Image, side: int, quality: int = 80) -> bytes:
    out = io.BytesIO()
    # method 4 (the default): 3x the time, for 3%
    _fitted(still, side, Image.Resampling.LANCZOS).save(out, "WEBP", quality=quality, method=2)
    return out.getvalue()


def _fitted(still: Image.Image, side: int, resample: Image.Resampling) -> Image.Image:
    """The still in RGB (RGBA if it has transparency), at most side pixels on its long side.

    Resized before it is converted, and without a copy where it needs neither: a still of a
    12-megapixel photo is 12 MB, and a copy of it each for the edits that do their picture
    work at once was a good part of the worker's peak memory."""
    mode = "RGBA" if _has_alpha(still) else "RGB"
    scale = min(1.0, side / max(still.size))
    size = (max(1, round(still.width * scale)), max(1, round(still.height * scale)))
    if still.mode not in ("RGB", "RGBA", "L"):  # LA (grey with alpha): into what is saved
        still = still.convert(mode)
    # reducing_gap as thumbnail() has it: a box reduction first, where the ratio is 2 or more
    fitted = still.resize(size, resample, reducing_gap=2.0) if size != still.size else still
    return fitted if fitted.mode == mode else fitted.convert(mode)


def _still_upright(
    image: Image.Image,
    side: int,
    slack: float = 1.0,
    resample: Image.Resampling = Image.Resampling.LANCZOS,
) -> Image.Image:
    """The first frame at most side pixels, in L, LA, RGB or RGBA, colour-managed and upright.

    JPEGs (L, RGB or CMYK) are resized before anything else so that draft mode applies; other
    formats are converted first, because Pillow resizes palette and 1-bit pictures with nearest
    neighbour only, and cannot resize 16-bit ones well.
    """
    orientation = _orientation(image)
    if image.format not in ("JPEG", "MPO"):
        image = _working_mode(image)
    elif max(image.size) > side:
        # Decode at 1/2, 1/4 or 1/8 scale. thumbnail() would ask draft() for its square box,
        # which the short side of a 3:2 photo never reaches, and so decode all 24 megapixels.
        # The picture sent may come out down to DRAFT_SLACK of `side`: a 4000 px photo is then
        # sent at 2000 px rather than decoded whole to make 2048, four times the work, and a
        # 6000 px one at 1500 px.
        scale = side * slack / max(image.size)
        width, height = round(image.width * scale), round(image.height * scale)
        image.draft(None, (max(1, width), max(1, height)))
    image.thumbnail((side, side), resample)
    still = _upright(_to_srgb(image), orientation)
    still.info = {}  # PNG saving would copy an ICC profile from here, now the wrong one
    return still


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation (1 to 8) as Pillow reads it, EXIF first, then XMP; else 1."""
    try:
        value = image.getexif().get(EXIF_ORIENTATION, 1)
    except Exception:  # a broken EXIF block must not make the picture unusable
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _working_mode(image: Image.Image) -> Image.Image:
    """One of L, LA, RGB or RGBA, with transparency (a tRNS colour, a palette entry) as alpha."""
    if image.mode.startswith("I"):
        return _sixteen_bit_to_8(image)
    if "transparency" in image.info or image.mode in ("PA", "La", "RGBa"):
        return image.convert("RGBA")
    if image.mode in ("L", "LA", "RGB", "RGBA"):
        return image
    return image.convert("L" if image.mode == "1" else "RGB")


def _sixteen_bit_to_8(image: Image.Image) -> Image.Image:
    """16-bit grey scaled to 8 bits; Pillow's convert("L") clips instead (all white, mostly)."""
    wide = image.convert("I")
    grey = wide.point(lambda v: v / 256).convert("L")  # point() on "I" keeps mode "I"
    key = image.info.get("transparency")
    if not isinstance(key, int):
        return grey
    alpha = ImageMath.lambda_eval(lambda a: (a["wide"] != key) * 255, wide=wide)
    return Image.merge("LA", (grey, alpha.convert("L")))


_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _to_srgb(image: Image.Image) -> Image.Image:
    """Colours as the embedded ICC profile means them, in sRGB, which is what viewers assume.

    This matters most for CMYK JPEGs (print workflows) and wide-gamut phone photos. A profile
    LittleCMS cannot use (broken, or for another colour space) falls back to a plain conversion.
    """
    icc = image.info.get("icc_profile")
    if icc and image.mode in ("RGB", "RGBA", "CMYK"):
        output = "RGBA" if image.mode == "RGBA" else "RGB"
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode=output)
            if converted is not None:  # None only for a conversion in place, which this is not
                return converted
        except (OSError, ImageCms.PyCMSError):
            pass
    return image.convert("RGB") if image.mode == "CMYK" else image


_TRANSPOSE_FOR_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _upright(image: Image.Image, orientation: int) -> Image.Image:
    method = _TRANSPOSE_FOR_ORIENTATION.get(orientation)
    return image if method is None else image.transpose(method)


def _has_alpha(image: Image.Image) -> bool:
    """Whether any pixel is see-through; an all-opaque alpha channel does not count."""
    if image.mode not in ("RGBA", "LA"):
        return False
    # One band, so (lowest, highest); Pillow's return type covers pictures of several bands too.
    lowest, _highest = cast(tuple[int, int], image.getchannel("A").getextrema())
    return lowest < 255


def _encode_for_sending(image: Image.Image) -> tuple[bytes, str]:
    out = io.BytesIO()
    if _has_alpha(image):
        image.convert("RGBA").save(out, "PNG", optimize=False, compress_level=6)
        return out.getvalue(), "image/png"
    # Not optimize=True: a third of the time for some 5% fewer bytes, on every edit's way out.
    image.convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue(), "image/jpeg"
