"""A scripted gateway for the Gemini transport: tests/support/scripted_gateway.py's (a real
socket, chunked bodies, pauses, cut connections), but each request is kept as a Received, with
its query parsed and its header names in lower case, since Gemini's requests are told apart by
their path and query (the model, the method, ?alt=sse, ?key=).
"""

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs

from tests.support.scripted_gateway import Scripted, ScriptedGateway

REPLIES = Path(__file__).parent / "replies" / "gemini"


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names in lower case
    json: dict | None  # None when the body is not JSON


def recorded(name: str, **script) -> Scripted:
    """A recorded reply (tests/support/replies/gemini) played as it was sent."""
    body = (REPLIES / name).read_bytes()
    content_type = "text/event-stream" if name.endswith(".sse") else "application/json"
    return Scripted(content_type=content_type, pieces=[body], **script)


class GeminiGateway(ScriptedGateway):
    requests: list[Received]

    def keep(self, request: dict) -> Received:
        return Received(
            method=request["method"],
            path=request["path"],
            query=parse_qs(request["query"]),
            headers={name.lower(): value for name, value in request["headers"].items()},
            json=request["json"],
        )
