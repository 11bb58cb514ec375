"""`manage.py inspect_reply FILE` on captured replies of every kind."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from editor.failures import FAILURE_MESSAGES as FAILURE_CODES
from tests.support.reply_samples import REPLIES

PNG_77 = "data:image/png;base64,<77 bytes>"


def inspect(path: Path) -> tuple[dict, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("inspect_reply", str(path), stdout=out, stderr=err)
    return json.loads(out.getvalue()), err.getvalue()


@pytest.mark.parametrize(
    ("name", "images", "stage", "progress", "code"),
    [
        (
            "f1_stream_zh.sse",
            ["https://filesystem.site/cdn/20260311/8cf3a0d1b7e24f6a9c2e1f0d5b4a3c21.png"],
            "done",
            100,
            None,
        ),
        (
            "f1_nonstream_zh_n2.json",
            [
                "https://cdn.example.net/cdn/20260311/aaa7f3.png",
                "https://cdn.example.net/cdn/20260311/bbb9e1.png",
            ],
            "done",
            100,
            None,
        ),
        ("f1_malformed.txt", ["https://pic.example.com/outputs/a1b2c3.png"], "done", 100, None),
        ("f1_video.json", ["https://vcdn.example.com/covers/77e1.jpg"], "done", 100, None),
        ("f2_gemini_stream.sse", [PNG_77], "done", 100, None),
        ("f2_gemini.json", ["data:image/jpeg;base64,<633 bytes>"], "done", 100, None),
        ("f3_openrouter.json", [PNG_77], "done", 100, None),
        ("f3_openrouter_stream.sse", [PNG_77, PNG_77], "done", 100, None),
        (
            "f4_parts.json",
            ["https://storage.example.ai/outputs/2026/03/11/sunset-4f1a.png?token=ab12"],
            "done",
            100,
            None,
        ),
        ("f5_bare_data.txt", [PNG_77], "done", 100, None),
        ("refusal_zh.json", [], "queued", None, "refused"),
        ("moderation.txt", [], "generating", 11, "content_filtered"),
        ("empty_completion.json", [], None, None, "refused"),
        ("openrouter_inband_error.json", [], None, None, "upstream_error"),
        ("stream_error.sse", [], "queued", None, "rate_limited"),
        ("error_429_saturated.json", [], None, None, "rate_limited"),
        ("error_503_no_channel.json", [], None, None, "model_unavailable"),
        ("error_403_quota.json", [], None, None, "quota_exhausted"),
        ("error_401_key.json", [], None, None, "key_rejected"),
        ("html_502.html", [], None, None, "gateway_error"),
        ("html_524.html", [], None, None, "gateway_error"),
    ],
)
def test_inspects_captured_replies(name, images, stage, progress, code):
    report, _err = inspect(REPLIES / name)
    assert set(report) == {"images", "stage", "progress", "failure"}
    assert report["images"] == images
    assert (report["stage"], report["progress"]) == (stage, progress)
    if code is None:
        assert report["failure"] is None
    else:
        assert report["failure"]["code"] == code
        assert isinstance(report["failure"]["message"], str)
        assert report["failure"]["message"]


def test_failure_message_is_rendered_text():
    report, _err = inspect(REPLIES / "error_429_saturated.json")
    assert report["failure"]["message"] == str(FAILURE_CODES["rate_limited"])
    report, _err = inspect(REPLIES / "empty_completion.json")
    assert report["failure"]["message"] == "The model finished without an image or any explanation."
    assert report["failure"]["detail"] == "completion_tokens: 0"


def test_failure_detail_keeps_the_models_words_unescaped():
    out = io.StringIO()
    call_command("inspect_reply", str(REPLIES / "moderation.txt"), stdout=out)
    assert "失败原因：input_moderation" in out.getvalue()  # ensure_ascii=False
    assert json.loads(out.getvalue())["failure"]["detail"].endswith("失败原因：input_moderation")


def test_html_page_detail_is_its_title():
    report, _err = inspect(REPLIES / "html_502.html")
    assert report["failure"]["detail"] == "502 Bad Gateway"


def test_error_body_with_a_numeric_code_uses_it_as_the_status(tmp_path):
    path = tmp_path / "error.json"
    path.write_text(json.dumps({"error": {"message": "Service temporarily down", "code": 503}}))
    report, _err = inspect(path)
    assert report["failure"]["code"] == "gateway_error"
    assert report["failure"]["detail"] == "Service temporarily down"


def test_stream_with_non_json_events_is_read_around_them(tmp_path):
    path = tmp_path / "odd.sse"
    chunk = {"choices": [{"index": 0, "delta": {"content": "![image](https://x.example/a.png)"}}]}
    path.write_bytes(
        b": keep-alive\r\n\r\ndata: not json at all\r\n\r\n"
        + f"data: {json.dumps(chunk)}\r\n\r\n".encode()
        + b"data: \xff\xfe broken bytes\r\n\r\ndata: [DONE]\r\n\r\n"
    )
    report, err = inspect(path)
    assert report["images"] == ["https://x.example/a.png"]
    assert "Skipped 2" in err


def test_plain_text_reply(tmp_path):
    path = tmp_path / "reply.txt"
    path.write_text("> 🏃 Progress 7....13....25\nI'm sorry, I can't edit this photo.", "utf-8")
    report, _err = inspect(path)
    assert (report["stage"], report["progress"]) == ("generating", 25)
    assert report["failure"]["code"] == "refused"
    assert report["failure"]["detail"] == "I'm sorry, I can't edit this photo."


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        call_command("inspect_reply", str(tmp_path / "nope.sse"), stdout=io.StringIO())
