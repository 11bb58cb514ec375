"""Pillow work: what counts as an upload, the picture sent upstream, thumbnails, clean originals.

Nothing here touches the database or the network, so every rule is tested on bytes.

Animated GIF, WebP and PNG files are accepted, and the first frame is the picture: it is what
the model is sent and what the thumbnail shows. The original is kept as uploaded, animation
included, minus its metadata (see clean_original).
"""

import io
import re
import struct
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageCms, ImageMath, UnidentifiedImageError

from .image_types import DAMAGED, EXIF_ORIENTATION, PICTURE_WORK, ImageInfo, InvalidImage
from .originals import clean_original, png_chunks

__all__ = ["ImageInfo", "InvalidImage", "clean_original"]  # also part of this module's face

# Formats accepted from users. MPO is how Pillow names the JPEGs many phones write.
UPLOAD_FORMATS = {
    "JPEG": ("image/jpeg", ".jpg"),
    "MPO": ("image/jpeg", ".jpg"),
    "PNG": ("image/png", ".png"),
    "WEBP": ("image/webp", ".webp"),
    "GIF": ("image/gif", ".gif"),
}
OPENERS = ["JPEG", "PNG", "WEBP", "GIF"]  # the JPEG opener also yields MPO
THUMBNAIL_SIDE = 480
DRAFT_SLACK = 0.75
# --- checking an upload ----------------------------------------------------------------------


def inspect_upload(file: BinaryIO, *, max_bytes: int, max_pixels: int) -> ImageInfo:
    """Decide whether an uploaded file is a usable picture, cheaply.

    Pillow reads the header for the format and size; the pixel count is checked before any
    decoding, so a decompression bomb costs nothing. Truncation is caught without decoding a
    JPEG: it must have an end marker after its first scan (the worker walks and decodes the
    rest). PNGs have their chunks verified and their pixel data inflated and counted (never
    kept), GIF and WebP have their first frame decoded, and their containers are walked as
    clean_original walks them (see _prove_complete).
    """
    size = _size_of(file)
    if size == 0:
        raise InvalidImage(_("The file is empty."))
    if size > max_bytes:
        raise InvalidImage(
            _("The file is %(size)s MB; the limit is %(limit)s MB.")
            % {"size": round(size / 2**20, 1), "limit": max_bytes // 2**20}
        )
    too_many = _("The picture has too many pixels; the limit is %(limit)s megapixels.") % {
        "limit": max_pixels // 1_000_000
    }
    file.seek(0)
    try:
        with Image.open(file, formats=OPENERS) as image:
            header_end = file.tell()  # for a JPEG, where its first scan's coded data begins
            width, height = image.size
            if width * height > max_pixels:
                raise InvalidImage(
                    _("The picture is %(mp)s megapixels; the limit is %(limit)s.")
                    % {"mp": round(width * height / 1e6, 1), "limit": max_pixels // 1_000_000}
                )
            _prove_complete(image, file, header_end)
            content_type, extension = UPLOAD_FORMATS[image.format]
            return ImageInfo(image.format, content_type, extension, width, height)
    except InvalidImage:
        raise
    except UnidentifiedImageError:
        raise _unreadable(file) from None
    # The warning is raised only where warnings are errors; otherwise the check above decides.
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidImage(too_many) from None
    except Exception:  # Pillow raises many types on hostile input; all mean "cannot read it"
        raise InvalidImage(DAMAGED) from None
    finally:
        file.seek(0)


def _size_of(file: BinaryIO) -> int:
    file.seek(0, io.SEEK_END)
    return file.tell()


_SVG = re.compile(
    rb"\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*|<!doctype[^>\[]*(\[.*?\])?\s*>\s*)*<svg[\s>/]",
    re.IGNORECASE | re.DOTALL,
)
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}


def _unreadable(file: BinaryIO) -> InvalidImage:
    """Name the kinds of file people mistake for pictures Gaitu takes, so they know what to do."""
    file.seek(0)
    head = file.read(4096).removeprefix(b"\xef\xbb\xbf")
    kind = None
    if head.startswith(b"%PDF-"):
        kind = "PDF"
    elif _SVG.match(head):
        kind = "SVG"
    elif head[4:8] == b"ftyp":  # ISO media: HEIC from iPhones, AVIF
        box = head[8 : int.from_bytes(head[:4])]
        brands = {box[i : i + 4] for i in range(0, len(box), 4)}
        kind = "AVIF" if brands & {b"avif", b"avis"} else "HEIC" if brands & _HEIF_BRANDS else None
    elif head[:4] in (b"II*\x00", b"MM\x00*"):
        kind = "TIFF"
    elif head.startswith((b"\xff\x0a", b"\x00\x00\x00\x0cJXL ")):
        kind = "JPEG XL"
    if kind:
        return InvalidImage(
            _("This %(kind)s file is not a picture Gaitu can read (JPEG, PNG, WebP or GIF).")
            % {"kind": kind}
        )
    return InvalidImage(_("This file is not a picture Gaitu can read (JPEG, PNG, WebP or GIF)."))


def _prove_complete(image: Image.Image, file: BinaryIO, header_end: int) -> None:
    """Prove the file whole, as far as the request can afford to.

    A JPEG must have an end marker after its first scan: an upload cut off in transfer has
    none. Walking or decoding its coded data would cost as much as receiving the upload, so
    the worker does that (clean_original's walk, then the decode) and fails the edit saying the
    picture is damaged. Other formats are small to check against their size: their pixel data
    is inflated or their first frame decoded, and their container walked.
    """
    if image.format in ("JPEG", "MPO"):
        if not _has_jpeg_end(file, after=header_end):
            raise InvalidImage(DAMAGED)
        return
    if image.format == "PNG":
        image.verify()  # chunk order and checksums
        file.seek(0)
        _check_png_pixels(file.read())
    else:
        image.load()  # the first frame, which is all Gaitu uses
    clean_original(file, UPLOAD_FORMATS[image.format][0])


def _has_jpeg_end(file: BinaryIO, *, after: int) -> bool:
    """Whether an EOI marker follows the offset; searched from the end of the file, so a whole
    JPEG costs one small read. (Coded data never holds FF D9: an FF in it is always stuffed.)"""
    block = 64 * 1024
    stop = _size_of(file)
    while stop > after:
        start = max(after, stop - block)
        file.seek(start)
        if b"\xff\xd9" in file.read(stop - start + 1):  # one byte past, for a straddling marker
            return True
        stop = start
    return False


_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2)]
_ADAM7 += [(0, 1, 1, 2)]


def _check_png_pixels(data: bytes) -> None:
    """Prove the pixel data decodes to exactly the picture the header describes.

    verify() checks checksums only, so a PNG whose IDAT is cut short (or inflates to gigabytes
    for a tiny picture, or names an unknown row filter) would pass and fail later in the worker.
    The stream is inflated in 1 MiB blocks and thrown away, so memory stays flat.
    """
    chunks = list(png_chunks(data))
    width, height, depth, colour, _c, _f, interlace = struct.unpack(">IIBBBBB", chunks[0][1][:13])
    passes = _png_passes(width, height, depth * _PNG_CHANNELS[colour], interlace == 1)
    expected, done, inflater = passes[-1][2], 0, zlib.decompressobj()
    idat = (p for kind, p, _w in chunks if kind == b"IDAT")
    for block in _inflate(inflater, idat, expected + 1):
        for start, stride, stop in passes:  # each row starts with its filter type, 0 to 4
            first = start + max(0, -(-(done - start) // stride)) * stride
            last = min(stop, done + len(block))
            if first < last and max(block[first - done : last - done : stride]) > 4:
                raise InvalidImage(DAMAGED)
        done += len(block)
    if done != expected or not inflater.eof:  # Pillow wants the stream's end too
        raise InvalidImage(DAMAGED)


def _png_passes(width: int, height: int, bits: int, interlaced: bool) -> list[tuple[int, ...]]:
    """(start, row length, end) of each pass in the inflated data; a row is a filter byte and
    the packed pixels. A plain PNG is one pass; an interlaced one has up to seven."""
    passes, start = [], 0
    for x0, y0, dx, dy in _ADAM7 if interlaced else [(0, 0, 1, 1)]:
        columns, rows = max(0, -(-(width - x0) // dx)), max(0, -(-(height - y0) // dy))
        if columns and rows:
            stride = 1 + (columns * bits + 7) // 8
            passes.append((start, stride, start + rows * stride))
            start += rows * stride
    return passes


def _inflate(inflater, pieces: Iterator[memoryview], limit: int) -> Iterator[bytes]:
    """Feed a zlib decompressobj; yield 1 MiB blocks until more than limit bytes came out."""
    total = 0
    for piece in pieces:
        while piece and not inflater.eof and total <= limit:
            block = inflater.decompress(piece, 2**20)
            piece, total = inflater.unconsumed_tail, total + len(block)
            yield block


# --- pictures for the model and for thumbnails ----------------------------------------------


def shape_for_upstream(file: BinaryIO, max_side: int) -> tuple[bytes, str]:
    """The picture as the model should see it: upright, at most max_side, sRGB, no metadata.

    Only the first frame of an animated GIF, WebP or PNG is used (a still is sent). JPEGs are
    decoded at a reduced scale straight away (draft mode), which is what keeps a 24-megapixel
    photo cheap in time and memory. Transparency is kept (sent as PNG); everything else goes as
    a JPEG.
    """
    file.seek(0)
    with PICTURE_WORK, Image.open(file, formats=OPENERS) as image:
        return _encode_for_sending(_still_upright(image, max_side, slack=DRAFT_SLACK))


def make_thumbnail(file: BinaryIO, side: int = THUMBNAIL_SIDE) -> bytes:
    """A small still WebP for grids and cards: first frame, upright, sRGB, without metadata."""
    file.seek(0)
    with PICTURE_WORK, Image.open(file, formats=OPENERS) as image:
        return _encode_thumbnail(_still_upright(image, side), side)


def shape_with_still(file: BinaryIO, max_side: int) -> tuple[bytes, str, Image.Image]:
    """shape_for_upstream, and the shaped picture itself: upright and in sRGB already, it
    makes the thumbnail (thumbnail_of) without decoding a big photo a second time."""
    file.seek(0)
    with PICTURE_WORK, Image.open(file, formats=OPENERS) as image:
        still = _still_upright(image, max_side, slack=DRAFT_SLACK)
        return *_encode_for_sending(still), still


def thumbnail_of(still: Image.Image, side: int = THUMBNAIL_SIDE) -> bytes:
    """make_thumbnail of a picture already decoded (by shape_with_still)."""
    with PICTURE_WORK:
        return _encode_thumbnail(still, side)


def _encode_thumbnail(still: Image.Image, side: int) -> bytes:
    thumb = still.convert("RGBA" if _has_alpha(still) else "RGB")
    thumb.thumbnail((side, side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    thumb.save(out, "WEBP", quality=80, method=2)  # 4 (the default) takes 3x as long, for 3%
    return out.getvalue()


def upright_size(file: BinaryIO) -> tuple[int, int]:
    """Width and height as displayed, i.e. after the EXIF orientation is applied."""
    file.seek(0)
    with Image.open(file, formats=OPENERS) as image:
        width, height = image.size
        if _orientation(image) in (5, 6, 7, 8):
            width, height = height, width
    file.seek(0)
    return width, height


def _still_upright(image: Image.Image, side: int, slack: float = 1.0) -> Image.Image:
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
        # sent at 2000 px rather than decoded whole to make 2048, four times the work.
        scale = side * slack / max(image.size)
        width, height = round(image.width * scale), round(image.height * scale)
        image.draft(None, (max(1, width), max(1, height)))
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
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
            return ImageCms.profileToProfile(image, source, _SRGB, outputMode=output)
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
    return image.getchannel("A").getextrema()[0] < 255


def _encode_for_sending(image: Image.Image) -> tuple[bytes, str]:
    out = io.BytesIO()
    if _has_alpha(image):
        image.convert("RGBA").save(out, "PNG", optimize=False, compress_level=6)
        return out.getvalue(), "image/png"
    # Not optimize=True: a third of the time for some 5% fewer bytes, on every edit's way out.
    image.convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue(), "image/jpeg"
