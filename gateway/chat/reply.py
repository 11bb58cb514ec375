"""Read what an OpenAI-compatible chat gateway answered to an image edit.

Gateways return the edited picture as markdown images in a progress transcript (F1), markdown
data URIs (F2), an ``images`` field (F3), content parts (F4) or bare links (F5); see the upstream
field guide. This finds the result images, the job's progress and, when there is no image, why.
No I/O, no settings needed.
"""

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence

from ..failures import Failure
from ..transport import ParsedReply
from .errors import (
    MODERATION,
    classify_text,
    decoded_size,
    error_words,
    in_band_code,
    make_failure,
)

STAGE_RANKS = {"queued": 1, "generating": 2, "done": 3}

_IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".gif")
_VIDEO_EXTENSIONS = (".mp4", ".webm", ".mov", ".m3u8")
# Printable ASCII without spaces, quotes and brackets: a link ends at `)`, `]`, a space, or
# Chinese text written right after it. Only the host of an IPv6 address is in brackets.
_URL_CHARS = r"[!#$%&*+,\-./0-9:;=?@A-Z_a-z~]"
_URL_REST = rf"(?:\[[0-9A-Za-z:.%]+\]{_URL_CHARS}*|{_URL_CHARS}+)"
_HTTP_URL = re.compile(r"(?i:https?)://" + _URL_REST)
# Links of other kinds are found too, so that they are reported as refused rather than read
# past: `scheme://…` with a picture's name anywhere, and any link in a markdown image.
_SCHEME = r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*:"
_OTHER_URL = re.compile(_SCHEME + "//" + _URL_REST)
# A markdown image's target up to `)` or a space; one pair of parentheses may be inside.
_MARKDOWN_TARGET = re.compile(_SCHEME + r"(?:[^\s()<>]|\([^\s()<>]*\))+")
_LINK_WITH_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_DATA_URI_HEAD = re.compile(r"data:image/[\w.+-]+(?:;[\w.+-]+=[\w.+-]+)*;base64,", re.ASCII)
_BASE64 = re.compile(r"[A-Za-z0-9+/=_-]*")
_WRAPPED_BASE64 = re.compile(r"[A-Za-z0-9+/=_\r\n-]*")  # some models wrap base64 inside ( )
_MIN_BASE64 = 64  # anything shorter is a placeholder or an abbreviated echo, not a picture
_MARKDOWN_IMAGE = re.compile(r"!\[[^\]\n]{0,2000}\]\(\s*<?")
_REF_START = re.compile(r"(?i:https?)://|data:image/|" + _SCHEME + "//")
_LINK_BEFORE = re.compile(r"\[([^\]\n]*)\]\(\s*<?\Z")
_NOT_A_RESULT_LINK = re.compile(
    r"预览|原始|源数据|播放|\b(?:preview|source|raw|task|video|play)\b", re.I
)
_FENCE = re.compile(r"[ \t>]*```[ \t]*(\w*)")
_LEADING_JSON = re.compile(r"\s*\{")
_JSON_TOKEN = re.compile(r'\\.|["{}]', re.S)

_STAGE_WORD = re.compile(
    r"(?P<done>生成完成|生成成功|绘制完成|已完成|generation complete)"
    r"|(?P<generating>生成中|正在生成|绘制中|正在绘制|处理中|进度|generating|processing|progress)"
    r"|(?P<queued>排队|等待中|queu|waiting)",
    re.I,
)
# A status line starts with ✅, or with its stage word (after quote marks, emoji and at most a
# few CJK characters such as 任务) and says little else: "Generating images of people is not
# allowed" is the model talking.
_STATUS_LINE = re.compile(
    r"[\W_]*?[\u4e00-\u9fff]{0,4}?(?=" + _STAGE_WORD.pattern + r")|[\W_]*✅", re.I
)
_STATUS_LINE_MAX_LETTERS = 12
# Bridges that stream their status in reasoning_content show the percentage on a line alone.
_PERCENT_LINE = re.compile(r"[\s>*_`]*(\d{1,3})(?:\.\d+)?\s*%[\s*_`.…。]*")
_PROGRESS_WORD = re.compile(r"进度|progress", re.I)
# The task id line and the task-links line are bookkeeping, not what the model says.
_TASK_LINE = re.compile(
    r"[\s>]*(?:(?:task[ _]?)?id\s*[:：]|任务\s*id|(?:\[[^\]\n]*\]\([^)\n]*\)[\s|]*)+\Z)", re.I
)
_LINK_TARGET = re.compile(r"\((?:https?|data):[^)\s]*\)?|https?://\S*")
_NUMBER = re.compile(r"(\d+)(?:\.\d+(?=\s*%))?\s*(%)?")
_LETTER = re.compile(r"[^\W\d_]")

# Gemini's own reasons (SAFETY, IMAGE_SAFETY, PROHIBITED_CONTENT...) pass through some gateways.
_FILTERED_FINISH = re.compile(r"content_filter|safety|prohibited|blocklist|spii|recitation", re.I)
_FAILED_GENERATION = re.compile(r"生成失败|失败原因|generation failed|" + MODERATION, re.I)
_CLOSING_FENCE = re.compile(r"[\s>]*```")

# A picture is billed as output tokens: Gemini's image models count 1290 per picture and
# gpt-image's medium and high quality 1056 to 6240, while a reply that says nothing costs a
# handful. So a silent reply that spent at least this many (reasoning left out) made a picture
# the relay then dropped. gpt-image's low quality (272) stays below: a refusal then, as before.
PICTURE_TOKENS = 1000
# Words that agree to draw: the model meant to give a picture; if none came, the relay lost it.
_AGREES_TO_DRAW = re.compile(
    r"(?:好的|好啊|当然|没问题|可以|收到)[^\n]{0,12}?(?:生成|绘制|画|创作|编辑|修改|处理)"
    r"|正在[^\n]{0,6}?(?:生成|绘制|创作|画|编辑|修改|处理)"
    r"|(?:这是|这里是|以下是|已为您|已经为您)[^\n]{0,12}?(?:图|画|照片)"
    r"|\b(?:sure|okay|ok|of course|certainly|absolutely|alright)\b[^\n]{0,30}?"
    r"\b(?:generat|creat|draw|edit|mak|render|produc)"
    r"|\bI(?:'ll| will| am going to|'m going to)\s+(?:now\s+)?"
    r"(?:generate|create|draw|edit|make|render|produce|change|turn|add|put)"
    r"|\b(?:generating|creating|drawing|editing|rendering)\s+(?:your|the|an|a|this)\b"
    r"|\bhere(?:'s| is| are)\s+(?:your|the)\b[^\n]{0,20}?\b(?:image|picture|photo|edit)",
    re.I,
)
# A refusal, a "but" or a question ("好的！请问您想生成什么风格？") is the model's answer, not
# a promise of a picture.
_NOT_A_PROMISE = re.compile(
    r"can'?t|cannot|can not|unable|won'?t|not able|sorry|apolog|not allowed|unfortunately"
    r"|\bbut\b|however|无法|不能|抱歉|对不起|不允许|拒绝|不可以|不支持|遗憾|但是|不过|[?？]",
    re.I,
)
_AGREEMENT_MAX_CHARS = 300  # a longer text is a model that answers in words, not a lost picture


def parse_reply(
    text: str,
    *,
    images: Sequence[str] = (),
    finish_reason: str | None = None,
    error: Mapping | None = None,
    completion_tokens: int | None = None,
    complete: bool = True,
    reasoning: str = "",
    reasoning_tokens: int = 0,
) -> ParsedReply:
    """Find the result images, the stage and the progress in a reply, or why there is no image.

    While a stream is still running (complete=False) a reference that runs to the end of the
    text is not a result yet, and a missing image is not a failure yet. `reasoning` is what
    came in reasoning_content: some bridges stream their whole status there, not in content.
    """
    # A reference cut off by the output token limit is a broken picture, not a result.
    open_end_ok = complete and not _cut_off(finish_reason)
    body = _drop_parameter_blocks(text, complete)
    thought = _drop_parameter_blocks(reasoning, complete) if reasoning else ""
    given = [ref for ref in images if _LINK_WITH_SCHEME.match(ref)]
    marked = [*_markdown_images(body, open_end_ok), *_markdown_images(thought, open_end_ok)]
    results = _distinct_pictures([*given, *marked], by_name=False)
    if not results:
        bare = [*_bare_images(body, open_end_ok), *_bare_images(thought, open_end_ok)]
        results = _distinct_pictures(bare, by_name=True)
    if results:
        return ParsedReply(results, "done", 100, None)
    stage, progress, words = _read_transcript(body)
    if thought:
        thought_stage, thought_progress, thought_words = _read_transcript(thought, percents=True)
        if thought_stage and STAGE_RANKS[thought_stage] > STAGE_RANKS.get(stage or "", 0):
            stage = thought_stage
        if thought_progress is not None:
            progress = max(progress or 0, thought_progress)
    else:
        thought_words = ""
    failure = _reply_failure(
        words,
        finish_reason,
        error,
        completion_tokens,
        complete,
        thought_words=thought_words,
        # Reasoning costs tokens too; where the gateway does not count it apart, its length
        # in characters is a generous guess (a token is one CJK character or ~4 Latin ones).
        reasoning_tokens=max(reasoning_tokens, len(reasoning)),
    )
    return ParsedReply(results, stage, progress, failure)


class ReplyAccumulator:
    """Feeds on chat.completion / chat.completion.chunk objects (already JSON-decoded)."""

    def __init__(self) -> None:
        self._pieces: list[str] = []
        self._reasoning: list[str] = []
        self.images: list[str] = []
        self.finish_reason: str | None = None
        self.error: Mapping | None = None
        # Whether the model had said or shown anything before the error came: a failure from
        # then on may be paid for (GatewayFailure.output_started).
        self.error_after_output = False
        self.usage: dict = {}

    @property
    def text(self) -> str:
        if len(self._pieces) != 1:
            self._pieces = ["".join(self._pieces)]
        return self._pieces[0]

    @property
    def reasoning(self) -> str:
        if len(self._reasoning) != 1:
            self._reasoning = ["".join(self._reasoning)]
        return self._reasoning[0]

    @property
    def has_output(self) -> bool:
        return bool(self.images or self.text.strip() or self.reasoning.strip())

    @property
    def failed_in_band(self) -> bool:
        """The reply carried an error (an error object, or finish_reason "error")."""
        return bool(self.error) or self.finish_reason == "error"

    def feed_chunk(self, chunk: Mapping) -> None:
        self._feed(chunk)

    def feed_completion(self, body: Mapping) -> None:
        self._feed(body)

    def result(self, complete: bool = True) -> ParsedReply:
        tokens = self.usage.get("completion_tokens")
        details = self.usage.get("completion_tokens_details")
        reasoning_tokens = details.get("reasoning_tokens") if isinstance(details, Mapping) else 0
        return parse_reply(
            self.text,
            images=self.images,
            finish_reason=self.finish_reason,
            error=self.error,
            completion_tokens=tokens if isinstance(tokens, int) else None,
            complete=complete,
            reasoning=self.reasoning,
            reasoning_tokens=reasoning_tokens if isinstance(reasoning_tokens, int) else 0,
        )

    def _feed(self, body: Mapping) -> None:
        self._note_error(body.get("error"))
        if isinstance(body.get("usage"), Mapping):
            self.usage = dict(body["usage"])
        choices = body.get("choices")
        if not isinstance(choices, list) or not choices:
            return  # e.g. the usage-only last chunk of a stream
        choice = next((c for c in choices if isinstance(c, Mapping) and c.get("index") == 0), None)
        choice = choice or choices[0]
        if not isinstance(choice, Mapping):
            return
        # Some gateways send `message` in stream chunks, or `delta` in a whole reply.
        message = choice.get("delta") or choice.get("message") or {}
        if isinstance(message, Mapping):
            self._take_message(message)
        if choice.get("finish_reason"):
            self.finish_reason = str(choice["finish_reason"])
        self._note_error(choice.get("error"))

    def _take_message(self, message: Mapping) -> None:
        content = message.get("content")
        self._take_content(content)
        self._take_content(message.get("refusal"))  # OpenAI's structured refusal
        for key in ("reasoning_content", "reasoning"):  # status lines of some Gemini bridges
            if isinstance(message.get(key), str):
                self._reasoning.append(message[key])
        images = message.get("images")
        for item in images if isinstance(images, list) else ():
            self._take_image(item)
        self._take_image(message.get("image"))  # a single {"url", "detail"}
        # A Gemini-like list of parts beside (or instead of) content; its words repeat the
        # content's where both are given, so they are read only when content said nothing.
        extra = message.get("multi_mod_content")
        if isinstance(extra, list):
            if content in (None, "", []):
                self._take_content(extra)
            else:
                for part in extra:
                    self._take_image(part)

    def _take_content(self, content: object) -> None:
        parts = content if isinstance(content, list) else [content]
        had_words = False
        for part in parts:
            words = part.get("text", part.get("refusal")) if isinstance(part, Mapping) else part
            if isinstance(words, str):
                # Text parts of one list are separate paragraphs, not one run of words.
                if had_words and words and not self._pieces[-1].endswith("\n"):
                    self._pieces.append("\n")
                self._pieces.append(words)
                had_words = had_words or bool(words)
            elif part is not None:
                self._take_image(part)

    def _take_image(self, item: object) -> None:
        ref = _image_ref(item)
        if ref:
            self.images.append(ref)

    def _note_error(self, error: object) -> None:
        if error:
            if not self.error:
                self.error_after_output = self.has_output
            self.error = error if isinstance(error, Mapping) else {"message": str(error)}


def describe_image_ref(ref: str) -> str:
    """A data URI as its type and decoded size, for logs; a URL unchanged."""
    if not ref.startswith("data:"):
        return ref
    header, _comma, payload = ref.partition(",")
    mime = header.removeprefix("data:").split(";")[0]
    return f"data:{mime};base64,<{decoded_size(payload)} bytes>"


def _image_ref(item: object) -> str | None:
    """The reference in an images entry or an image content part, in any spelling seen."""
    candidate = item
    if isinstance(item, Mapping):
        inline = item.get("inlineData") or item.get("inline_data")
        if isinstance(inline, Mapping):
            return _inline_ref(inline)
        keys = ("image_url", "url", "image", "b64_json")
        candidate = next((item[k] for k in keys if item.get(k)), None)
        if isinstance(candidate, Mapping):
            candidate = candidate.get("url") or candidate.get("data")
    if not isinstance(candidate, str):
        return None
    candidate = candidate.strip()
    if _LINK_WITH_SCHEME.match(candidate):  # any link: one Gaitu will not fetch is reported
        return candidate
    if len(candidate) >= _MIN_BASE64 and _BASE64.fullmatch(candidate):  # base64 without header
        signatures = {"/9j/": "image/jpeg", "UklGR": "image/webp", "R0lGOD": "image/gif"}
        mime = next((m for sig, m in signatures.items() if candidate.startswith(sig)), "image/png")
        return f"data:{mime};base64,{candidate}"
    return None


def _inline_ref(inline: Mapping) -> str | None:
    """A Gemini-style {"data": base64, "mimeType": …} part as a data URI; {} is no picture."""
    data = inline.get("data")
    mime = inline.get("mimeType") or inline.get("mime_type") or ""
    if not isinstance(data, str) or not isinstance(mime, str):
        return None
    data = data.strip()
    if data.startswith("data:"):
        return _image_ref(data)
    mime = mime.strip().lower()
    if mime and "/" not in mime:  # a bare "png" is seen too
        mime = "image/" + {"jpg": "jpeg"}.get(mime, mime)
    if mime and not mime.startswith("image/"):
        return None  # audio or text in a part of its own
    if len(data) < _MIN_BASE64 or not _BASE64.fullmatch(data):
        return None
    return f"data:{mime};base64,{data}" if mime else _image_ref(data)


def _drop_parameter_blocks(text: str, complete: bool) -> str:
    """Remove the echoed request parameters: JSON in a code fence, or a JSON object opening
    the reply.

    The echo quotes the user's prompt, which may itself hold links and numbers.
    """
    kept: list[str] = []
    copied = 0
    leading = _LEADING_JSON.match(text)
    if leading and '":' in text[leading.end() : leading.end() + 500]:
        end = _json_object_end(text, leading.end() - 1)
        copied = len(text) if end is None and not complete else (end or 0)
    line_start = copied
    while line_start < len(text):
        fence = _FENCE.match(text, line_start)
        end = _fence_end(text, fence.end(), complete) if fence else None
        if fence and end is not None and _is_parameter_echo(text, fence, complete):
            kept += [text[copied:line_start], "\n"]
            copied = end
        next_newline = text.find("\n", line_start if end is None else end)
        line_start = len(text) if next_newline < 0 else next_newline + 1
    kept.append(text[copied:])
    return "".join(kept)


def _fence_end(text: str, after_opening: int, complete: bool) -> int | None:
    body_start = text.find("\n", after_opening)
    closing = text.find("```", body_start) if body_start >= 0 else -1
    json_start = _LEADING_JSON.match(text, body_start) if body_start >= 0 else None
    json_end = _json_object_end(text, json_start.end() - 1) if json_start else None
    if json_end is not None:
        # The echo is its JSON object. Some resellers close the fence only after the image and
        # its download link: what follows the object, up to a late fence, is the reply.
        right_after = _CLOSING_FENCE.match(text, json_end)
        if right_after:
            return right_after.end()
        rest = text[json_end : closing if closing >= 0 else len(text)].lstrip()
        if not rest.startswith(("{", "[")):  # more JSON: the block is one echo after all
            return json_end
    if closing >= 0:
        return closing + 3
    if not complete:
        return len(text)  # still being written
    return json_end  # never closed: an echo still ends where its JSON does


def _is_parameter_echo(text: str, fence: re.Match[str], complete: bool) -> bool:
    """A fence holding JSON; other code blocks (a model may fence its markdown) stay."""
    opening_end = text.find("\n", fence.end(), fence.end() + 300)
    head = text[opening_end + 1 : opening_end + 300].lstrip() if opening_end >= 0 else ""
    return fence[1].lower() == "json" or head.startswith(("{", "[")) or (not complete and not head)


def _json_object_end(text: str, brace: int) -> int | None:
    depth, in_string = 0, False
    for token in _JSON_TOKEN.finditer(text, brace):
        if token[0] == '"':
            in_string = not in_string
        elif in_string or token[0].startswith("\\"):
            continue
        elif token[0] == "{":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return token.end()
    return None


def _read_ref(text: str, start: int, in_markdown: bool) -> tuple[str | None, bool]:
    """The link or data URI at start (None if not valid), and whether text follows it.

    Besides http(s) links and inline pictures, a link of another kind (ftp:, file:,
    javascript:…) is read too: the download refuses it and says so.
    """
    head = _DATA_URI_HEAD.match(text, start)
    payload_pattern = _WRAPPED_BASE64 if in_markdown else _BASE64
    # The payload patterns match the empty string too: after a head there is always a match.
    if head and (payload_match := payload_pattern.match(text, head.end())):
        end = payload_match.end()
        payload = payload_match[0].replace("\n", "").replace("\r", "")
        valid = (
            len(payload) >= _MIN_BASE64
            and "=" not in payload.rstrip("=")
            and text[end : end + 2] not in ("..", "…")  # an echo abbreviated with dots
            and (not in_markdown or text[end : end + 1] in ("", ")", ">", " ", '"'))
        )
        return (head[0] + payload if valid else None), end < len(text)
    url = _HTTP_URL.match(text, start)
    if url is None and not text.startswith("data:image/", start):  # a bad one is an echo
        url = (_MARKDOWN_TARGET if in_markdown else _OTHER_URL).match(text, start)
    if url is None:
        return None, True
    return url[0].rstrip(".,;:!?*"), url.end() < len(text)


def _markdown_images(body: str, open_end_ok: bool) -> Iterator[str]:
    for image in _MARKDOWN_IMAGE.finditer(body):
        ref, terminated = _read_ref(body, image.end(), in_markdown=True)
        if ref and (terminated or open_end_ok) and not _is_video(ref):
            yield ref


def _bare_images(body: str, open_end_ok: bool) -> Iterator[str]:
    """Image-looking links and data URIs anywhere, except progress and task links."""
    resume = 0
    for match in _REF_START.finditer(body):
        start = match.start()
        if start < resume:
            continue  # inside the previous reference, e.g. a URL in a query string
        ref, terminated = _read_ref(body, start, in_markdown=False)
        resume = start + len(ref or "")
        if not ref or not (terminated or open_end_ok):
            continue
        if not ref.startswith("data:") and not _path(ref).lower().endswith(_IMAGE_EXTENSIONS):
            continue
        line_start = body.rfind("\n", 0, start) + 1
        # A progress line is short before its link; a long line is something else.
        status = _status_of_line(body[line_start:start]) if start - line_start < 1000 else None
        if status and status[0] != "done":
            continue  # e.g. the `[100](...)` link to a raw asset that ends a progress line
        link = _LINK_BEFORE.search(body[max(line_start, start - 300) : start])
        if link and (link[1].strip(" %").isdigit() or _NOT_A_RESULT_LINK.search(link[1])):
            continue
        yield ref


def _distinct_pictures(refs: Iterable[str], by_name: bool) -> list[str]:
    """The references without repeats and download twins.

    A twin is the same path with `/download/` in it on the same host or, among bare links
    (whose twin may be on another host), a link to a file of the same name.
    """
    pictures: list[str] = []
    seen: set[str] = set()
    for ref in refs:
        keys = {ref}
        if "://" in ref:
            path = _path(ref)
            keys.add(ref.split("/")[2] + path.replace("/download/", "/"))
            if by_name and path.rsplit("/", 1)[-1]:
                keys.add("name:" + path.rsplit("/", 1)[-1])
        if seen.isdisjoint(keys):
            pictures.append(ref)
        seen |= keys
    return pictures


def _path(url: str) -> str:
    without_query = re.split(r"[?#]", url, maxsplit=1)[0]
    return "/" + without_query.split("://", 1)[-1].partition("/")[2]


def _is_video(ref: str) -> bool:
    return not ref.startswith("data:") and _path(ref).lower().endswith(_VIDEO_EXTENSIONS)


def _read_transcript(body: str, percents: bool = False) -> tuple[str | None, int | None, str]:
    """The furthest stage, the highest percent, and the model's words without the transcript.

    With percents, a line that is only a percentage ("45%") is progress too.
    """
    stage, progress, words = None, None, []
    for line in body.split("\n"):
        status = _status_of_line(line)
        if status is None and percents and (alone := _PERCENT_LINE.fullmatch(line)):
            status = ("generating", min(100, int(alone[1])))
        if status is None:
            if not _TASK_LINE.match(line):
                words.append(line)
            continue
        line_stage, percent = status
        if stage is None or STAGE_RANKS[line_stage] > STAGE_RANKS[stage]:
            stage = line_stage
        if percent is not None:
            progress = max(progress or 0, percent)
    return stage, (100 if stage == "done" else progress), "\n".join(words)


def _status_of_line(line: str) -> tuple[str, int | None] | None:
    """The stage a status line reports and its highest percent; None for any other line."""
    start = _STATUS_LINE.match(line)
    if start is None:
        return None
    if start[0].endswith("✅"):
        return "done", None
    rest = _LINK_TARGET.sub("", line[start.end() :])
    if len(_LETTER.findall(_STAGE_WORD.sub("", rest))) > _STATUS_LINE_MAX_LETTERS:
        return None
    # Every alternative of _STAGE_WORD is a named group, so each match has a lastgroup.
    found = {match.lastgroup for match in _STAGE_WORD.finditer(rest) if match.lastgroup}
    stage = max(found, key=STAGE_RANKS.__getitem__)
    numbers = _NUMBER.findall(rest)
    percents = [int(number) for number, percent_sign in numbers if percent_sign]
    if not percents and _PROGRESS_WORD.search(rest):
        # `进度 12..31..58` has no `%`; where one is shown (`进度 5%，还需 120 秒`) only it counts.
        percents = [int(number) for number, _percent_sign in numbers]
    return stage, (min(100, max(percents)) if percents else None)


def _reply_failure(
    words: str,
    finish_reason: str | None,
    error: Mapping | None,
    completion_tokens: int | None,
    complete: bool,
    thought_words: str = "",
    reasoning_tokens: int = 0,
) -> Failure | None:
    said = words.strip()
    # A bridge that streams its status in reasoning_content may put its last words there too.
    words = words if said else thought_words
    if error:
        message, signals = error_words(error)
        return make_failure(in_band_code(error, signals), message or words)
    if _FILTERED_FINISH.search(finish_reason or ""):
        return make_failure("content_filtered", words)
    if finish_reason == "error":
        return make_failure(classify_text(words) or "upstream_error", words)
    if not complete:
        return None
    if _cut_off(finish_reason):
        return make_failure("interrupted", words, "cut_off")
    if _FAILED_GENERATION.search(words):
        return make_failure(classify_text(words) or "content_filtered", words)
    picture_tokens = (completion_tokens or 0) - reasoning_tokens
    if not said and picture_tokens >= PICTURE_TOKENS:
        return make_failure("picture_lost", f"completion_tokens: {completion_tokens}")
    if _agrees_to_draw(said):
        return make_failure("picture_lost", words)
    if words.strip():
        return make_failure("refused", words)
    facts = "completion_tokens: 0" if completion_tokens == 0 else ""
    return make_failure("refused", facts, "empty")


def _agrees_to_draw(words: str) -> bool:
    return (
        0 < len(words) <= _AGREEMENT_MAX_CHARS
        and _AGREES_TO_DRAW.search(words) is not None
        and _NOT_A_PROMISE.search(words) is None
    )


def _cut_off(finish_reason: str | None) -> bool:
    return (finish_reason or "").lower() in ("length", "max_tokens")
