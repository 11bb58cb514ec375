"""The seam between the app and a gateway's API: one request in, one Outcome out.

Three transports share it, each a class with the same send(), named in gateway.TRANSPORTS:
chat completions (gateway/chat), the images API (gateway/images) and Gemini's own
generateContent (gateway/gemini). The worker, the retries and the fallback between providers
(gateway/fallback) stay the same whichever one a model is spoken to through.
"""

import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import BinaryIO, Protocol
from urllib.parse import quote

import httpx

from .failures import Failure, GatewayFailure
from .options import DEFAULT as DEFAULT_OPTIONS
from .options import DEFAULT_STYLE, ModelStyle, RequestOptions


@dataclass(frozen=True)
class Picture:
    """A picture as sent, already shaped for the model (imaging.shape_with_still).

    Its bytes are in memory, or in a file (held): an edit waiting minutes on a gateway then
    holds a file descriptor rather than a megabyte, and the chat transport sends the picture
    from the file as the body goes out (gateway/chat/body.py). Reads use pread, so requests
    sent side by side may read one file at once.
    """

    source: "bytes | BinaryIO"
    content_type: str

    @classmethod
    def held(cls, data: bytes, content_type: str) -> "Picture":
        """The picture, written to an unnamed temporary file (gone when it is closed)."""
        file = tempfile.TemporaryFile()  # noqa: SIM115 (closed with the picture: close())
        file.write(data)
        file.flush()
        return cls(file, content_type)

    @property
    def size(self) -> int:
        if isinstance(self.source, bytes):
            return len(self.source)
        return os.fstat(self.source.fileno()).st_size

    @property
    def data(self) -> bytes:
        """All of its bytes, read afresh (a transport that needs them whole)."""
        return b"".join(self.chunks(max(self.size, 1)))

    def chunks(self, size: int) -> Iterator[bytes]:
        """Its bytes, size at a time."""
        if isinstance(self.source, bytes):
            for start in range(0, len(self.source), size):
                yield self.source[start : start + size]
            return
        descriptor, offset = self.source.fileno(), 0
        while True:
            chunk = os.pread(descriptor, size, offset)
            while chunk and len(chunk) < size:  # a short read: the rest, up to the end
                more = os.pread(descriptor, size - len(chunk), offset + len(chunk))
                if not more:
                    break
                chunk += more
            if not chunk:
                return
            offset += len(chunk)
            yield chunk

    def close(self) -> None:
        if not isinstance(self.source, bytes):
            self.source.close()


@dataclass(frozen=True)
class ImageRequest:
    """What a person asked for: an instruction, the model, and the pictures to start from
    (none: a picture made from the words alone), with the options and how the model takes them."""

    model: str
    instruction: str
    pictures: Sequence[Picture] = ()
    options: RequestOptions = DEFAULT_OPTIONS
    style: ModelStyle = DEFAULT_STYLE
    # The area to change in the first picture: a PNG exactly its size as sent, transparent
    # where it should change and opaque where it should stay (the images API's own form).
    # The chat and Gemini transports send it as a picture of its own (gateway.masks).
    mask: bytes | None = None


@dataclass
class ParsedReply:
    images: list[str]  # result references in order: http(s) URLs or full data: URIs
    stage: str | None  # "queued" | "generating" | "done" | None
    progress: int | None  # 0..100, the highest percent seen; 100 when done
    failure: Failure | None


@dataclass
class Outcome:
    reply: ParsedReply
    raw_text: str  # what the gateway said, data URIs elided, for the record
    usage: dict


ProgressCallback = Callable[[ParsedReply], None]


class Transport(Protocol):
    def send(
        self,
        request: ImageRequest,
        on_progress: ProgressCallback | None = None,
        client: httpx.Client | None = None,
    ) -> Outcome:
        """Send one request and read the reply to its end.

        Returns the reply (which may itself carry a failure, e.g. a refusal); raises
        GatewayFailure when the gateway could not be reached or answered with an error.
        """
        ...


def without_key(text: str, key: str) -> str:
    """The text with the key (as is, or as it goes in a link) replaced by ***."""
    if not key:
        return text  # "".replace("", "***") would put *** between every letter
    return text.replace(key, "***").replace(quote(key, safe=""), "***")


def keeping_key_out(key: str, send: Callable[[], Outcome]) -> Outcome:
    """send()'s outcome, or its GatewayFailure, with the key cut out of all it says.

    Some gateways quote the key back in their errors; nothing a transport returns or raises
    (kept as the raw reply, shown as a failure's detail) may carry it.
    """
    try:
        outcome = send()
    except GatewayFailure as exc:
        exc.failure = replace(exc.failure, detail=without_key(exc.failure.detail, key))
        exc.raw_text = without_key(exc.raw_text, key)
        raise
    outcome.raw_text = without_key(outcome.raw_text, key)
    if outcome.reply.failure:
        problem = outcome.reply.failure
        outcome.reply.failure = replace(problem, detail=without_key(problem.detail, key))
    return outcome
