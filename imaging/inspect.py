"""What counts as an upload: a whole picture in a format Gaitu takes, within the limits.

Nothing here touches the database or the network, so every rule is tested on bytes.
"""

import io
import re
import struct
import zlib
from collections.abc import Iterator
from typing import IO

from PIL import Image, UnidentifiedImageError

from .clean import clean_original, png_chunks
from .types import OPENERS, UPLOAD_FORMATS, ImageInfo, InvalidImage


def inspect_upload(file: IO[bytes], *, max_bytes: int, max_pixels: int) -> ImageInfo:
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
        raise InvalidImage("empty")
    if size > max_bytes:
        raise InvalidImage("too_large", size=round(size / 2**20, 1), limit=max_bytes // 2**20)
    file.seek(0)
    try:
        with Image.open(file, formats=OPENERS) as image:
            header_end = file.tell()  # for a JPEG, where its first scan's coded data begins
            width, height = image.size
            if width * height > max_pixels:
                raise InvalidImage(
                    "megapixels",
                    mp=round(width * height / 1e6, 1),
                    limit=max_pixels // 1_000_000,
                )
            # Pillow names no format only for pictures made in memory, never for these openers.
            if image.format not in UPLOAD_FORMATS:
                raise InvalidImage("damaged")
            content_type, extension = UPLOAD_FORMATS[image.format]
            _prove_complete(image, file, header_end, content_type)
            return ImageInfo(image.format, content_type, extension, width, height)
    except InvalidImage:
        raise
    except UnidentifiedImageError:
        raise _unreadable(file) from None
    # The warning is raised only where warnings are errors; otherwise the check above decides.
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidImage("too_many_pixels", limit=max_pixels // 1_000_000) from None
    except Exception:  # Pillow raises many types on hostile input; all mean "cannot read it"
        raise InvalidImage("damaged") from None
    finally:
        file.seek(0)


def _size_of(file: IO[bytes]) -> int:
    file.seek(0, io.SEEK_END)
    return file.tell()


_SVG = re.compile(
    rb"\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*|<!doctype[^>\[]*(\[.*?\])?\s*>\s*)*<svg[\s>/]",
    re.IGNORECASE | re.DOTALL,
)
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}


def _unreadable(file: IO[bytes]) -> InvalidImage:
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
        return InvalidImage("unsupported_kind", kind=kind)
    return InvalidImage("unsupported")


def _prove_complete(
    image: Image.Image, file: IO[bytes], header_end: int, content_type: str
) -> None:
    """Prove the file whole, as far as the request can afford to.

    A JPEG must have an end marker after its first scan: an upload cut off in transfer has
    none. Walking or decoding its coded data would cost as much as receiving the upload, so
    the worker does that (clean_original's walk, then the decode) and fails the edit saying the
    picture is damaged. Other formats are small to check against their size: their pixel data
    is inflated or their first frame decoded, and their container walked.
    """
    if image.format in ("JPEG", "MPO"):
        if not _has_jpeg_end(file, after=header_end):
            raise InvalidImage("damaged")
        return
    if image.format == "PNG":
        image.verify()  # chunk order and checksums
        file.seek(0)
        _check_png_pixels(file.read())
    else:
        image.load()  # the first frame, which is all Gaitu uses
    clean_original(file, content_type)


def _has_jpeg_end(file: IO[bytes], *, after: int) -> bool:
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
                raise InvalidImage("damaged")
        done += len(block)
    if done != expected or not inflater.eof:  # Pillow wants the stream's end too
        raise InvalidImage("damaged")


def _png_passes(width: int, height: int, bits: int, interlaced: bool) -> list[tuple[int, int, int]]:
    """(start, row length, end) of each pass in the inflated data; a row is a filter byte and
    the packed pixels. A plain PNG is one pass; an interlaced one has up to seven."""
    passes: list[tuple[int, int, int]] = []
    start = 0
    for x0, y0, dx, dy in _ADAM7 if interlaced else [(0, 0, 1, 1)]:
        columns, rows = max(0, -(-(width - x0) // dx)), max(0, -(-(height - y0) // dy))
        if columns and rows:
            stride = 1 + (columns * bits + 7) // 8
            passes.append((start, stride, start + rows * stride))
            start += rows * stride
    return passes


def _inflate(
    # What zlib.decompressobj() makes: typeshed's name for a class Python does not expose.
    inflater: "zlib._Decompress",
    pieces: Iterator[bytes | memoryview],
    limit: int,
) -> Iterator[bytes]:
    """Feed a zlib decompressobj; yield 1 MiB blocks until more than limit bytes came out."""
    total = 0
    for piece in pieces:
        while piece and not inflater.eof and total <= limit:
            block = inflater.decompress(piece, 2**20)
            piece, total = inflater.unconsumed_tail, total + len(block)
            yield block
