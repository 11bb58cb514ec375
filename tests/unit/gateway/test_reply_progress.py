"""The stage and progress a running reply shows: queued, generating with a percentage, done."""

import pytest

from gateway.chat.reply import parse_reply
from tests.support.reply_samples import CDN, assert_steady, stream_text


@pytest.mark.parametrize(
    ("text", "stage", "progress"),
    [
        (">🕐 排队中...", "queued", None),
        ("> ⏳ Queuing.", "queued", None),
        ("Queued, position 3", "queued", None),
        ("> 🕐 任务排队中，前面还有 3 人", "queued", None),
        (">⚡ 生成中....", "generating", None),
        ("> ⚡ Generating....", "generating", None),
        ("> 🏃 进度 **2%**\n> 🏃 进度 **14%**", "generating", 14),
        ("> 进度 14%.", "generating", 14),
        ("> 🏃 Progress 7....13....25", "generating", 25),
        ("进度 36..44..61..", "generating", 61),
        (
            "🏃 进度 12..31..58..[100](https://assets.example/raw/2026/src_0.png?se=2026)",
            "generating",
            100,
        ),
        ("> 进度 12.5%", "generating", 12),
        ("> 进度 5%，预计还需 120 秒", "generating", 5),
        ("> 🎨 Processing...", "generating", None),
        ('```json\n{"prompt": "进度 90%"}```\n> 🕐 排队中', "queued", None),
        ("> 进度 88..\n> 进度 41..", "generating", 88),
        ("> 进度 250%", "generating", 100),
        ("> 🏃 进度 12..81\n> ✅ 生成完成", "done", 100),
        ("> ✅ Generation complete", "done", 100),
        ("> ✅", "done", 100),
        ("> 图片生成中 45%", "generating", 45),
        ('{"prompt": "进度 90%", "n": 4}\n> 🕐 排队中', "queued", None),
        ("> ID: `task_2026031199`\n> 🕐 排队中 2026-03-11", "queued", None),
        ("Generating images of real people is not allowed here, sorry.", None, None),
        ("I made some progress on the sky but could not finish: 80% done", None, None),
        ("抱歉，生成中出现错误，请重试。", None, None),
    ],
)
def test_stage_and_progress(text, stage, progress):
    reply = parse_reply(text, complete=False)
    assert (reply.stage, reply.progress) == (stage, progress)


def test_an_image_means_done():
    reply = parse_reply(f"> 🏃 进度 12..81\n![image]({CDN}/a.png)")
    assert (reply.stage, reply.progress) == ("done", 100)


def test_progress_of_a_dot_by_dot_transcript_never_goes_back():
    text = (
        "> 🕐 排队中...\n> ⚡ 生成中...\n"
        "> 🏃 进度 5..12..19..27..38..46..58..67..75..83..91..\n> ✅ 生成完成\n"
    )
    final, interim = stream_text(text + f"![gen_1]({CDN}/a.png)")
    assert_steady(interim, final)
    seen = [reply.progress for reply in interim if reply.progress is not None]
    assert seen[0] == 5
    assert 91 in seen
