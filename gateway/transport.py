"""The seam between the app and a gateway's API: one request in, one Outcome out.

Chat completions (gateway/chat) is the transport today. Another API (the images API,
Gemini's generateContent) plugs in as another class with the same send(), named in
gateway.TRANSPORTS; the worker, the retries and the reply handling stay as they are.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import httpx

from .failures import Failure
from .options import DEFAULT as DEFAULT_OPTIONS
from .options import DEFAULT_STYLE, ModelStyle, RequestOptions


@dataclass(frozen=True)
class Picture:
    data: bytes  # already shaped for the model (imaging.shape_with_still)
    content_type: str


@dataclass(frozen=True)
class ImageRequest:
    """What a person asked for: an instruction, the model, and the pictures to start from
    (none: a picture made from the words alone), with the options and how the model takes them."""

    model: str
    instruction: str
    pictures: Sequence[Picture] = ()
    options: RequestOptions = DEFAULT_OPTIONS
    style: ModelStyle = DEFAULT_STYLE


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
