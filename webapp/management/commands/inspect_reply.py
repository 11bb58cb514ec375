"""Show what Gaitu makes of a captured gateway reply: its images, progress and failure."""

import json
import re
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from editor.failures import failure_message
from gateway.chat.errors import classify_http_error
from gateway.chat.reply import ReplyAccumulator, describe_image_ref, parse_reply
from gateway.chat.sse import iter_sse_data
from gateway.transport import ParsedReply

SSE_DATA_LINE = re.compile(r"^data:[ \t]*(\{|\[DONE\])", re.M)


class Command(BaseCommand):
    help = (
        "Parse a captured reply (SSE transcript, chat.completion JSON, error body, HTML error "
        "page or plain assistant text) and print the images, stage, progress and failure found."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the captured reply")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise CommandError(f"No such file: {path}") from None
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}") from None
        reply = self.parse(raw.decode("utf-8", errors="replace").removeprefix("\ufeff"))
        failure = None
        if reply.failure:
            failure = {
                "code": reply.failure.code,
                "message": str(failure_message(reply.failure.code, reply.failure.reason)),
                "detail": reply.failure.detail,
            }
        report = {
            "images": [describe_image_ref(ref) for ref in reply.images],
            "stage": reply.stage,
            "progress": reply.progress,
            "failure": failure,
        }
        self.stdout.write(json.dumps(report, ensure_ascii=False, indent=2))

    def parse(self, text: str) -> ParsedReply:
        # A bare `data:image/...` line is an F5 reply, not an event stream.
        if SSE_DATA_LINE.search(text):
            return self.parse_stream(text)
        stripped = text.strip()
        try:
            body = json.loads(stripped)
        except ValueError:
            body = None
        if isinstance(body, dict) and "choices" in body:
            accumulator = ReplyAccumulator()
            accumulator.feed_completion(body)
            return accumulator.result()
        if isinstance(body, (dict, list)) or stripped.startswith("<"):
            return ParsedReply([], None, None, classify_http_error(_status_of(body), text))
        return parse_reply(text)

    def parse_stream(self, text: str) -> ParsedReply:
        accumulator = ReplyAccumulator()
        skipped = 0
        for data in iter_sse_data(text.split("\n")):
            try:
                chunk = json.loads(data)
            except ValueError:
                skipped += 1
                continue
            if isinstance(chunk, dict):
                accumulator.feed_chunk(chunk)
        if skipped:
            self.stderr.write(f"Skipped {skipped} event(s) whose data is not JSON.")
        return accumulator.result()


def _status_of(body: object) -> int:
    """The HTTP status an error body names in its code, if any; 0 when it names none."""
    if isinstance(body, list) and body:
        body = body[0]
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    if isinstance(code, str) and code.isdigit():
        code = int(code)
    return code if isinstance(code, int) and 100 <= code <= 599 else 0
