"""Samples and helpers shared by the reply parser tests (tests/unit/gateway/test_reply_*.py).

The captured replies in tests/replies, a tiny PNG as a data URI, the F1 reseller transcript, and
ways to feed text to a ReplyAccumulator the way resellers stream it, checking every interim
result on the way.
"""

import itertools
import json
import re
from pathlib import Path

from gateway.chat.reply import STAGE_RANKS, ReplyAccumulator, parse_reply
from gateway.chat.sse import iter_sse_data
from gateway.transport import ParsedReply

REPLIES = Path(__file__).parent / "replies"
PNG = (  # an 8×8 blue PNG of 77 bytes
    "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAFElEQVR4nGOUq7jDgA0wYRUdtBIA"
    "JIUBgsh9F8MAAAAASUVORK5CYII="
)
PNG_URI = f"data:image/png;base64,{PNG}"
CDN = "https://cdn.example.net/cdn/20260311"


def read_reply(name: str) -> ReplyAccumulator:
    """A captured reply fed the way upstream.py feeds it: SSE events, a JSON body, or text."""
    text = (REPLIES / name).read_text(encoding="utf-8")
    accumulator = ReplyAccumulator()
    if name.endswith(".sse"):
        for data in iter_sse_data(text.split("\n")):
            accumulator.feed_chunk(json.loads(data))
    elif name.endswith(".json"):
        accumulator.feed_completion(json.loads(text))
    else:
        accumulator.feed_chunk({"choices": [{"index": 0, "delta": {"content": text}}]})
        accumulator.feed_chunk({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return accumulator


def pieces(text: str) -> list[str]:
    """Cut text the way resellers stream it: each dot alone, data URIs in many small pieces."""
    cut = []
    for token in re.split(r"(\.)", text):
        cut += [token[i : i + 5] for i in range(0, len(token), 5)]
    return cut


def delta_chunk(delta: dict, finish_reason: str | None = None) -> dict:
    return {
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


def stream_text(text: str, finish_reason: str = "stop") -> tuple[ParsedReply, list[ParsedReply]]:
    """Stream the text in tiny chunks; returns the final result and every result on the way."""
    accumulator = ReplyAccumulator()
    interim = []
    for piece in pieces(text):
        accumulator.feed_chunk(delta_chunk({"content": piece}))
        interim.append(accumulator.result(complete=False))
    accumulator.feed_chunk(delta_chunk({}, finish_reason))
    accumulator.feed_chunk({"choices": [], "usage": {"completion_tokens": 1 + len(text) // 4}})
    return accumulator.result(), interim


def assert_steady(interim: list[ParsedReply], final: ParsedReply) -> None:
    """A running stream never goes backwards, never gives up early, never shows a bad image."""
    for before, after in itertools.pairwise(interim):
        assert (after.progress or 0) >= (before.progress or 0)
        assert STAGE_RANKS.get(after.stage, 0) >= STAGE_RANKS.get(before.stage, 0)
    for reply in interim:
        assert reply.images == final.images[: len(reply.images)]
        assert reply.failure is None or reply.failure.code != "refused"


def only_images(text: str, **kwargs) -> list[str]:
    return parse_reply(text, **kwargs).images


# A reseller (F1) transcript around {images}: task links, queue, progress and a progress link.

F1_TRANSCRIPT = """```json
{{"prompt": "把背景换成蓝天白云 https://example.com/ref.png", "ratio": "1:1", "n": 2}}
```
> ID: `task_abc123`
>[数据预览](https://tasks.example/web/task_abc123) | [原始数据](https://tasks.example/source/task_abc123)
>🕐 排队中...
>⚡ 生成中....
>🏃 进度 12..31..58..[100](https://assets.example/raw/src_0.png?se=2026-03-12&sig=x)
> ✅ 生成完成
{images}"""
