"""A chat request's JSON body, its pictures' data: URLs base64'd as the body is sent.

A body built whole holds every picture three times over while the gateway works (the bytes,
the data: URL, the encoded JSON), some 3.7 MB for a 1 MB picture, for as long as the reply
takes: 256 edits waiting on a slow gateway would hold most of a gigabyte. This one holds the
JSON around the pictures, and reads each picture (gateway.transport.Picture, in a file when
the worker holds it) in slices as the connection takes them; its length is known beforehand,
so it goes with a Content-Length as a body built whole does, not chunked.
"""

import base64
import json
import secrets
from collections.abc import Iterator, Sequence

from ..transport import Picture

# Bytes of a picture base64'd at a time: a multiple of 3, so the slices join without padding.
SLICE = 3 * 2**14


class JsonWithPictures:
    """The payload as JSON, each of pictures' data: URL where url_for(index) stands in it.

    Iterable more than once (a retry sends it again): each pass reads the pictures afresh.
    """

    def __init__(self, pictures: Sequence[Picture]):
        self.pictures = list(pictures)
        self._mark = f"gaitu-picture-{secrets.token_hex(8)}-"
        self._pieces: list[bytes | Picture] = []

    def url_for(self, index: int) -> str:
        """What stands in the payload for the data: URL of picture `index`."""
        return f"{self._mark}{index}"

    def encode(self, payload: dict) -> "JsonWithPictures":
        """Take the payload (with url_for's in it): JSON as httpx's json= writes it."""
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        pieces: list[bytes | Picture] = []
        rest = text
        for index, picture in enumerate(self.pictures):
            before, found, rest = rest.partition(f'"{self.url_for(index)}"')
            if not found:
                raise ValueError(f"picture {index} has no place in the payload")
            pieces.append(f'{before}"data:{picture.content_type};base64,'.encode())
            pieces.append(picture)
            rest = '"' + rest
        pieces.append(rest.encode())
        self._pieces = pieces
        return self

    @property
    def headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json", "Content-Length": str(len(self))}

    def __len__(self) -> int:
        return sum(
            len(piece) if isinstance(piece, bytes) else 4 * -(-piece.size // 3)
            for piece in self._pieces
        )

    def __iter__(self) -> Iterator[bytes]:
        for piece in self._pieces:
            if isinstance(piece, bytes):
                yield piece
            else:
                for chunk in piece.chunks(SLICE):
                    yield base64.b64encode(chunk)
