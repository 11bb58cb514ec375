"""Server-sent events, as chat gateways stream them: the data of each event, in order."""

import re
from collections.abc import Iterable, Iterator

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def iter_sse_data(lines: Iterable[str]) -> Iterator[str]:
    """Yield the data of each server-sent event, up to the `[DONE]` sentinel."""
    data: list[str] = []
    for chunk in lines:
        chunk = chunk.removesuffix("\n").removesuffix("\r")
        # A chunk is normally one line; split it anyway in case it carries several.
        for line in _LINE_BREAK.split(chunk) if "\n" in chunk or "\r" in chunk else [chunk]:
            if line.startswith(":"):
                continue  # a comment, e.g. a keep-alive
            if line:
                field, _colon, value = line.partition(":")
                if field == "data":
                    data.append(value.removeprefix(" "))
                continue
            if data:
                payload, data = "\n".join(data), []
                if payload.strip() == "[DONE]":
                    return
                yield payload
    if data and "\n".join(data).strip() != "[DONE]":
        yield "\n".join(data)
