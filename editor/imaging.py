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
from dataclasses import dataclass
from typing import BinaryIO

from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageCms, ImageMath, UnidentifiedImageError

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
EXIF_ORIENTATION = 0x0112
DAMAGED = _("The picture is damaged or incomplete.")


class InvalidImage(ValueError):
    """An upload that is not a picture Gaitu can edit; the message is shown to the user."""


@dataclass(frozen=True)
class ImageInfo:
    format: str
    content_type: str
    extension: str
    width: int
    height: int


# --- checking an upload ----------------------------------------------------------------------


def inspect_upload(file: BinaryIO, *, max_bytes: int, max_pixels: int) -> ImageInfo:
    """Decide whether an uploaded file is a usable picture, cheaply.

    Pillow reads the header for the format and size; the pixel count is checked before any
    decoding, so a decompression bomb costs nothing. Truncation is caught without a full decode:
    JPEGs are decoded at 1/8 scale (draft mode), PNGs have their chunks verified and their pixel
    data inflated and counted (never kept), GIF and WebP have their first frame decoded. Last,
    the container is walked as clean_original walks it, so an accepted file can be stored.
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
            width, height = image.size
            if width * height > max_pixels:
                raise InvalidImage(
                    _("The picture is %(mp)s megapixels; the limit is %(limit)s.")
                    % {"mp": round(width * height / 1e6, 1), "limit": max_pixels // 1_000_000}
                )
            _prove_complete(image, file)
            content_type, extension = UPLOAD_FORMATS[image.format]
            info = ImageInfo(image.format, content_type, extension, width, height)
        clean_original(file, info)  # so that whatever is accepted here can be stored cleaned
        return info
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


def _prove_complete(image: Image.Image, file: BinaryIO) -> None:
    if image.format in ("JPEG", "MPO"):
        image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
        image.load()
    elif image.format == "PNG":
        image.verify()  # chunk order and checksums
        file.seek(0)
        _check_png_pixels(file.read())
    else:
        image.load()  # the first frame, which is all Gaitu uses


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2)]
_ADAM7 += [(0, 1, 1, 2)]


def _check_png_pixels(data: bytes) -> None:
    """Prove the pixel data decodes to exactly the picture the header describes.

    verify() checks checksums only, so a PNG whose IDAT is cut short (or inflates to gigabytes
    for a tiny picture, or names an unknown row filter) would pass and fail later in the worker.
    The stream is inflated in 1 MiB blocks and thrown away, so memory stays flat.
    """
    chunks = list(_png_chunks(data))
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


def _png_chunks(data: bytes) -> Iterator[tuple[bytes, memoryview, bytes | memoryview]]:
    """Each chunk as (type, payload, whole chunk), up to IEND; anything after it is dropped."""
    if not data.startswith(_PNG_SIGNATURE):
        raise InvalidImage(DAMAGED)
    view, pos = memoryview(data), len(_PNG_SIGNATURE)
    while pos + 8 <= len(data):
        length, kind = int.from_bytes(view[pos : pos + 4]), bytes(view[pos + 4 : pos + 8])
        if kind == b"IEND":
            yield kind, view[0:0], _PNG_IEND  # rewritten whole: only its checksum may be cut off
            return
        end = pos + 12 + length
        if end > len(data):
            break
        yield kind, view[pos + 8 : end - 4], view[pos:end]
        pos = end
    raise InvalidImage(DAMAGED)


# --- pictures for the model and for thumbnails ----------------------------------------------


def shape_for_upstream(file: BinaryIO, max_side: int) -> tuple[bytes, str]:
    """The picture as the model should see it: upright, at most max_side, sRGB, no metadata.

    Only the first frame of an animated GIF, WebP or PNG is used (a still is sent). JPEGs are
    decoded at a reduced scale straight away (draft mode), which is what keeps a 24-megapixel
    photo cheap in time and memory. Transparency is kept (sent as PNG); everything else goes as
    a JPEG.
    """
    file.seek(0)
    with Image.open(file, formats=OPENERS) as image:
        return _encode_for_sending(_still_upright(image, max_side, reducing_gap=3.0))


def make_thumbnail(file: BinaryIO, side: int = THUMBNAIL_SIDE) -> bytes:
    """A small still WebP for grids and cards: first frame, upright, sRGB, without metadata."""
    file.seek(0)
    with Image.open(file, formats=OPENERS) as image:
        thumb = _still_upright(image, side, reducing_gap=2.0)
        thumb = thumb.convert("RGBA" if _has_alpha(thumb) else "RGB")
        out = io.BytesIO()
        thumb.save(out, "WEBP", quality=80, method=4)
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


def _still_upright(image: Image.Image, side: int, reducing_gap: float) -> Image.Image:
    """The first frame at most side pixels, in L, LA, RGB or RGBA, colour-managed and upright.

    JPEGs (L, RGB or CMYK) are resized before anything else so that draft mode applies; other
    formats are converted first, because Pillow resizes palette and 1-bit pictures with nearest
    neighbour only, and cannot resize 16-bit ones well.
    """
    orientation = _orientation(image)
    if image.format not in ("JPEG", "MPO"):
        image = _working_mode(image)
    image.thumbnail((side, side), Image.Resampling.LANCZOS, reducing_gap=reducing_gap)
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
    image.convert("RGB").save(out, "JPEG", quality=90, optimize=True)
    return out.getvalue(), "image/jpeg"


# --- the original as stored -----------------------------------------------------------------


def clean_original(file: BinaryIO, info: ImageInfo) -> bytes:
    """The bytes to store as the original: the upload without metadata, pixels untouched.

    EXIF (GPS, camera serials, thumbnails of the uncropped photo), XMP, IPTC and comments are
    dropped by rewriting the container, never by re-encoding, so quality is kept and no pixel is
    decoded. An orientation other than 1 is kept as a one-tag EXIF block, so the original still
    displays the way Gaitu's thumbnails show it. GIFs carry no EXIF and come back as they are.
    Anything after the end of the picture (a JPEG's EOI, a PNG's IEND) is dropped too.
    """
    file.seek(0)
    data = file.read()
    file.seek(0)
    if info.format in ("JPEG", "MPO"):
        return _clean_jpeg(data)
    if info.format == "PNG":
        return _clean_png(data)
    if info.format == "WEBP":
        return _clean_webp(data)
    return data


def _orientation_from(exif: bytes | None, xmp: bytes | None) -> int:
    """The orientation Pillow would see in these blocks: the EXIF tag, else XMP's."""
    value = None
    if exif:
        try:
            parsed = Image.Exif()
            parsed.load(exif)
            value = parsed.get(EXIF_ORIENTATION)
        except Exception:  # unreadable EXIF: Pillow ignores it too
            value = None
    if value is None and xmp and (found := re.search(rb'tiff:Orientation(="|>)([0-9])', xmp)):
        value = int(found[2])
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _orientation_tiff(orientation: int) -> bytes:
    """A TIFF-structured EXIF block holding the Orientation tag and nothing else."""
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = orientation
    return exif.tobytes().removeprefix(b"Exif\x00\x00")


# Application segments kept, by marker and signature: JFIF, ICC profile, Adobe (CMYK inversion).
_JPEG_KEPT_APPS = {0xE0: b"JFIF\x00", 0xE2: b"ICC_PROFILE\x00", 0xEE: b"Adobe"}
_JPEG_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")  # a marker, not stuffing or a restart
_XMP_NAMESPACE = b"http://ns.adobe.com/xap/1.0/\x00"


def _clean_jpeg(data: bytes) -> bytes:
    """Copy the segments that describe pixels, up to the first EOI, dropping the rest.

    All APPn segments but JFIF, ICC and Adobe go, as do comments; so do the MPF index and the
    extra images of a phone's MPO file, which leaves a plain JPEG of the first image.
    """
    if not data.startswith(b"\xff\xd8"):
        raise InvalidImage(DAMAGED)
    kept: list[bytes] = []
    exif = xmp = None
    pos = 2
    while True:
        while data[pos : pos + 2] == b"\xff\xff":  # fill bytes before a marker
            pos += 1
        if data[pos : pos + 1] != b"\xff" or data[pos + 1 : pos + 2] in (b"\x00", b""):
            found = _JPEG_MARKER.search(data, pos)  # junk between segments: skipped, as by libjpeg
            if found is None:
                raise InvalidImage(DAMAGED)
            pos = found.start()
        marker = data[pos + 1]
        if marker == 0xD9:
            kept.append(b"\xff\xd9")
            break
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:  # markers without a length
            pos += 2
            continue
        end = pos + 2 + int.from_bytes(data[pos + 2 : pos + 4])
        if end < pos + 4 or end > len(data):
            raise InvalidImage(DAMAGED)
        payload = data[pos + 4 : end]
        if marker == 0xDA:  # start of scan: the coded data runs to the next real marker
            found = _JPEG_MARKER.search(data, end)
            if found is None:
                raise InvalidImage(DAMAGED)
            end = found.start()
        if marker == 0xE1 and payload.startswith(b"Exif\x00\x00"):
            exif = exif or payload
        elif marker == 0xE1 and payload.startswith(_XMP_NAMESPACE):
            xmp = xmp or payload
        if _jpeg_segment_kept(marker, payload):
            kept.append(data[pos:end])
        pos = end
    orientation = _orientation_from(exif, xmp)
    if orientation != 1:
        block = b"Exif\x00\x00" + _orientation_tiff(orientation)
        at = 1 if kept[0].startswith(b"\xff\xe0") else 0  # Exif goes after JFIF, if any
        kept.insert(at, b"\xff\xe1" + (len(block) + 2).to_bytes(2) + block)
    return b"\xff\xd8" + b"".join(kept)


def _jpeg_segment_kept(marker: int, payload: bytes) -> bool:
    """Comments go, and application segments but for JFIF, ICC profiles and Adobe's."""
    if 0xE0 <= marker <= 0xEF:
        signature = _JPEG_KEPT_APPS.get(marker)
        return signature is not None and payload.startswith(signature)
    return marker != 0xFE


# Ancillary chunks kept: colour, transparency, physical size, animation. Critical chunks (an
# upper-case first letter) are always kept; everything else (eXIf, text, tIME, iDOT...) goes.
_PNG_KEPT = {b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"bKGD", b"pHYs", b"hIST"}
_PNG_KEPT |= {b"cICP", b"mDCV", b"cLLI", b"acTL", b"fcTL", b"fdAT"}


def _clean_png(data: bytes) -> bytes:
    """Copy the chunks that describe pixels; an orientation goes back as a one-tag eXIf chunk."""
    kept: list[tuple[bytes, bytes | memoryview]] = []
    exif = xmp = None
    for kind, payload, whole in _png_chunks(data):
        if kind == b"eXIf":
            exif = exif or bytes(payload)
        elif kind == b"iTXt" and bytes(payload[:18]) == b"XML:com.adobe.xmp\x00":
            xmp = xmp or bytes(payload)
        if kind[:1].isupper() or kind in _PNG_KEPT:
            kept.append((kind, whole))
    orientation = _orientation_from(exif, xmp)
    if orientation != 1:
        body = b"eXIf" + _orientation_tiff(orientation)
        chunk = (len(body) - 4).to_bytes(4) + body + zlib.crc32(body).to_bytes(4)
        at = next(i for i, (kind, _w) in enumerate(kept) if kind in (b"IDAT", b"IEND"))
        kept.insert(at, (b"eXIf", chunk))  # eXIf must come before the pixel data
    return _PNG_SIGNATURE + b"".join(whole for _k, whole in kept)


_VP8X_EXIF, _VP8X_XMP = 0x08, 0x04


def _clean_webp(data: bytes) -> bytes:
    """Rebuild the RIFF container without EXIF and XMP chunks, with sizes and flags to match."""
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise InvalidImage(DAMAGED)
    end = min(len(data), 8 + int.from_bytes(data[4:8], "little"))
    chunks: list[tuple[bytes, bytes]] = []
    exif = xmp = None
    pos = 12
    while pos + 8 <= end:
        kind, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        if pos + 8 + size > end:
            raise InvalidImage(DAMAGED)
        payload = data[pos + 8 : pos + 8 + size]
        if kind == b"EXIF":
            exif = exif or payload
        elif kind == b"XMP ":
            xmp = xmp or payload
        else:
            chunks.append((kind, payload))
        pos += 8 + size + size % 2  # chunks are padded to an even length
    if chunks and chunks[0][0] == b"VP8X":  # only the extended format can hold metadata
        flags = chunks[0][1][0] & ~(_VP8X_EXIF | _VP8X_XMP)
        if (orientation := _orientation_from(exif, xmp)) != 1:
            flags |= _VP8X_EXIF
            chunks.append((b"EXIF", _orientation_tiff(orientation)))
        chunks[0] = (b"VP8X", bytes([flags]) + chunks[0][1][1:])
    body = b"WEBP" + b"".join(
        kind + len(p).to_bytes(4, "little") + p + b"\x00" * (len(p) % 2) for kind, p in chunks
    )
    return b"RIFF" + len(body).to_bytes(4, "little") + body
