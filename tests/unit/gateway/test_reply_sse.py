"""Reading a streamed reply: SSE data lines, and what the accumulator keeps besides the text."""

import pytest

from gateway.chat.reply import ReplyAccumulator
from gateway.chat.sse import iter_sse_data
from tests.support.reply_samples import delta_chunk


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (['data: {"a":1}', "", 'data: {"b":2}', ""], ['{"a":1}', '{"b":2}']),
        (['data: {"a":1}\r\n', "\r\n", 'data:{"b":2}\r\n', "\r\n"], ['{"a":1}', '{"b":2}']),
        ([": keep-alive", "", "event: message", "id: 7", "data: x", ""], ["x"]),
        (["data: first", "data: second", "", "data: [DONE]", "", "data: after"], ["first\nsecond"]),
        (["data: tail without blank line"], ["tail without blank line"]),
        (['data: {"a":1}\n\ndata: {"b":2}\n\n'], ['{"a":1}', '{"b":2}']),
        (["data:[DONE]"], []),
        (["retry: 1000", "", "", "data:  two spaces", ""], [" two spaces"]),
    ],
)
def test_iter_sse_data(lines, expected):
    assert list(iter_sse_data(lines)) == expected


def test_accumulator_keeps_finish_usage_and_stream_error():
    accumulator = ReplyAccumulator()
    accumulator.feed_chunk(delta_chunk({"role": "assistant", "content": ""}))
    accumulator.feed_chunk(delta_chunk({"content": "> 🕐 排队中"}))
    accumulator.feed_chunk({"error": {"message": "upstream model crashed", "code": 500}})
    accumulator.feed_chunk({"choices": [], "usage": {"completion_tokens": 0}})
    assert accumulator.text == "> 🕐 排队中"
    assert accumulator.usage == {"completion_tokens": 0}
    assert accumulator.error == {"message": "upstream model crashed", "code": 500}
    reply = accumulator.result()
    assert (reply.stage, reply.failure.code, reply.failure.detail) == (
        "queued",
        "upstream_error",
        "upstream model crashed",
    )
