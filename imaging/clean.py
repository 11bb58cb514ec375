"""Originals as Gaitu stores them: the upload minus its metadata, rewritten losslessly.

GPS positions, camera serials, embedded thumbnails of the uncropped photo: none of it is kept
or served. Containers are rewritten, never re-encoded, so no pixel changes and nothing is
decoded. Also the PNG chunk walk that imaging.inspect_upload proves uploads with.
"""

import re
import zlib
from collections.abc import Iterator
from typing import IO

from PIL import Image

from .types import EXIF_ORIENTATION, PICTURE_WORK, InvalidImage

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"


def png_chunks(data: bytes) -> Iterator[tuple[bytes, memoryview, bytes | memoryview]]:
    """Each chunk as (type, payload, whole chunk), up to IEND; anything after it is dropped."""
    if not data.startswith(_PNG_SIGNATURE):
        raise InvalidImage("damaged")
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
    raise InvalidImage("damaged")


# --- the original as stored -----------------------------------------------------------------


def clean_original(file: IO[bytes], content_type: str) -> bytes:
    """The bytes to store as the original: the upload without metadata, pixels untouched.

    EXIF (GPS, camera serials, thumbnails of the uncropped photo), XMP, IPTC and comments are
    dropped by rewriting the container, never by re-encoding, so quality is kept and no pixel is
    decoded. An orientation other than 1 is kept as a one-tag EXIF block, so the original still
    displays the way Gaitu's thumbnails show it. GIFs carry no EXIF and come back as they are.
    Anything after the end of the picture (a JPEG's EOI, a PNG's IEND) is dropped too.
    The walk also proves the container whole: InvalidImage if it is not.
    """
    with PICTURE_WORK:
        file.seek(0)
        data = file.read()
        file.seek(0)
        if content_type == "image/jpeg":
            return _clean_jpeg(data)
        if content_type == "image/png":
            return _clean_png(data)
        if content_type == "image/webp":
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
        raise InvalidImage("damaged")
    kept: list[bytes | memoryview] = []  # views, not copies: the scan data is most of the file
    view = memoryview(data)
    exif = xmp = None
    pos = 2
    while True:
        while data[pos : pos + 2] == b"\xff\xff":  # fill bytes before a marker
            pos += 1
        if data[pos : pos + 1] != b"\xff" or data[pos + 1 : pos + 2] in (b"\x00", b""):
            found = _JPEG_MARKER.search(data, pos)  # junk between segments: skipped, as by libjpeg
            if found is None:
                raise InvalidImage("damaged")
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
            raise InvalidImage("damaged")
        payload = data[pos + 4 : end]
        if marker == 0xDA:  # start of scan: the coded data runs to the next real marker
            found = _JPEG_MARKER.search(data, end)
            if found is None:
                raise InvalidImage("damaged")
            end = found.start()
        if marker == 0xE1 and payload.startswith(b"Exif\x00\x00"):
            exif = exif or payload
        elif marker == 0xE1 and payload.startswith(_XMP_NAMESPACE):
            xmp = xmp or payload
        if _jpeg_segment_kept(marker, payload):
            kept.append(view[pos:end])
        pos = end
    orientation = _orientation_from(exif, xmp)
    if orientation != 1:
        block = b"Exif\x00\x00" + _orientation_tiff(orientation)
        at = 1 if bytes(kept[0][:2]) == b"\xff\xe0" else 0  # Exif goes after JFIF, if any
        kept.insert(at, b"\xff\xe1" + (len(block) + 2).to_bytes(2) + block)
    return b"".join([b"\xff\xd8", *kept])  # one copy of the file: `+` would make a second


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
    for kind, payload, whole in png_chunks(data):
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
    return b"".join([_PNG_SIGNATURE, *(whole for _k, whole in kept)])  # one copy, not two


_VP8X_EXIF, _VP8X_XMP = 0x08, 0x04


def _clean_webp(data: bytes) -> bytes:
    """Rebuild the RIFF container without EXIF and XMP chunks, with sizes and flags to match."""
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise InvalidImage("damaged")
    end = min(len(data), 8 + int.from_bytes(data[4:8], "little"))
    chunks: list[tuple[bytes, bytes]] = []
    exif = xmp = None
    pos = 12
    while pos + 8 <= end:
        kind, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        if pos + 8 + size > end:
            raise InvalidImage("damaged")
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
