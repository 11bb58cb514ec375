"""Read what an OpenAI-compatible chat gateway answered to an image edit.

Gateways return the edited picture as markdown images in a progress transcript (F1), markdown
data URIs (F2), an ``images`` field (F3), content parts (F4) or bare links (F5); see the upstream
field guide. This finds the result images, the job's progress and, when there is no image, why.
No I/O, no settings needed.
"""

import contextlib
import html
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence

from ..failures import Failure
from ..transport import ParsedReply

DETAIL_LIMIT = 500
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
_PROGRESS_WORD = re.compile(r"进度|progress", re.I)
# The task id line and the task-links line are bookkeeping, not what the model says.
_TASK_LINE = re.compile(
    r"[\s>]*(?:(?:task[ _]?)?id\s*[:：]|任务\s*id|(?:\[[^\]\n]*\]\([^)\n]*\)[\s|]*)+\Z)", re.I
)
_LINK_TARGET = re.compile(r"\((?:https?|data):[^)\s]*\)?|https?://\S*")
_NUMBER = re.compile(r"(\d+)(?:\.\d+(?=\s*%))?\s*(%)?")
_LETTER = re.compile(r"[^\W\d_]")

_MODERATION = (
    r"moderation|violat|safety|content.?policy|content.?filter|flagged|sensitive|敏感|违规|审核"
)
# Gemini's own reasons (SAFETY, IMAGE_SAFETY, PROHIBITED_CONTENT...) pass through some gateways.
_FILTERED_FINISH = re.compile(r"content_filter|safety|prohibited|blocklist|spii|recitation", re.I)
_FAILED_GENERATION = re.compile(r"生成失败|失败原因|generation failed|" + _MODERATION, re.I)
_TEXT_CLASSES = [
    ("quota_exhausted", r"quota|额度|余额|insufficient.{0,20}balance|\bcredits?\b"),
    ("model_unavailable", r"model_not_found|无可用渠道|no available channel|模型.{0,40}不存在"),
    ("model_unavailable", r"model\b.{0,80}\b(?:does not exist|not found)"),
    ("rate_limited", r"饱和|负载|rate.?limit|too many requests|频率|频繁|限流|overloaded|capacity"),
    ("content_filtered", _MODERATION),
    ("key_rejected", r"api.?key|令牌|unauthori[sz]ed|authenticat|invalid.?token"),
]
_TEXT_CLASSIFIERS = [(code, re.compile(pattern, re.I)) for code, pattern in _TEXT_CLASSES]
_SECRET = re.compile(r"sk-[A-Za-z0-9_-]{8,}")
_ELIDABLE = re.compile(
    r"(data:[\w.+-]+\\?/[\w.+-]+(?:;[\w.+-]+=[\w.+-]+)*;base64,)([A-Za-z0-9+/=_\\-]+)", re.ASCII
)
_STATUS_CODES = {
    401: "key_rejected",
    403: "key_rejected",
    402: "quota_exhausted",
    429: "rate_limited",
    **dict.fromkeys((400, 404, 413, 422), "bad_request"),
}
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)


def parse_reply(
    text: str,
    *,
    images: Sequence[str] = (),
    finish_reason: str | None = None,
    error: Mapping | None = None,
    completion_tokens: int | None = None,
    complete: bool = True,
) -> ParsedReply:
    """Find the result images, the stage and the progress in a reply, or why there is no image.

    While a stream is still running (complete=False) a reference that runs to the end of the
    text is not a result yet, and a missing image is not a failure yet.
    """
    # A reference cut off by the output token limit is a broken picture, not a result.
    open_end_ok = complete and not _cut_off(finish_reason)
    body = _drop_parameter_blocks(text, complete)
    given = [ref for ref in images if _LINK_WITH_SCHEME.match(ref)]
    results = _distinct_pictures([*given, *_markdown_images(body, open_end_ok)], by_name=False)
    if not results:
        results = _distinct_pictures(_bare_images(body, open_end_ok), by_name=True)
    if results:
        return ParsedReply(results, "done", 100, None)
    stage, progress, words = _read_transcript(body)
    failure = _reply_failure(words, finish_reason, error, completion_tokens, complete)
    return ParsedReply(results, stage, progress, failure)


class ReplyAccumulator:
    """Feeds on chat.completion / chat.completion.chunk objects (already JSON-decoded)."""

    def __init__(self) -> None:
        self._pieces: list[str] = []
        self.images: list[str] = []
        self.finish_reason: str | None = None
        self.error: Mapping | None = None
        self.usage: dict = {}

    @property
    def text(self) -> str:
        if len(self._pieces) != 1:
            self._pieces = ["".join(self._pieces)]
        return self._pieces[0]

    def feed_chunk(self, chunk: Mapping) -> None:
        self._feed(chunk)

    def feed_completion(self, body: Mapping) -> None:
        self._feed(body)

    def result(self, complete: bool = True) -> ParsedReply:
        tokens = self.usage.get("completion_tokens")
        return parse_reply(
            self.text,
            images=self.images,
            finish_reason=self.finish_reason,
            error=self.error,
            completion_tokens=tokens if isinstance(tokens, int) else None,
            complete=complete,
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
            self._take_content(message.get("content"))
            self._take_content(message.get("refusal"))  # OpenAI's structured refusal
            images = message.get("images")
            for item in images if isinstance(images, list) else ():
                self._take_image(item)
        if choice.get("finish_reason"):
            self.finish_reason = str(choice["finish_reason"])
        self._note_error(choice.get("error"))

    def _take_content(self, content: object) -> None:
        parts = content if isinstance(content, list) else [content]
        for part in parts:
            words = part.get("text", part.get("refusal")) if isinstance(part, Mapping) else part
            if isinstance(words, str):
                self._pieces.append(words)
            elif part is not None:
                self._take_image(part)

    def _take_image(self, item: object) -> None:
        ref = _image_ref(item)
        if ref:
            self.images.append(ref)

    def _note_error(self, error: object) -> None:
        if error:
            self.error = error if isinstance(error, Mapping) else {"message": str(error)}


def classify_http_error(status: int, body: str, content_type: str = "") -> Failure:
    """Turn an HTTP error reply (JSON, an HTML page or plain text) into a Failure."""
    stripped = body.strip()
    head = stripped[:1000].lower()
    if "html" in content_type.lower() or (
        head.startswith("<") and ("<html" in head or "<!doctype" in head or "<title" in head)
    ):
        # An HTML page comes from a proxy or CDN in front of the gateway, not from the gateway.
        code = {413: "bad_request", 429: "rate_limited"}.get(status, "gateway_error")
        return _failure(code, _html_summary(stripped) or f"HTTP {status}")
    message = signals = stripped
    is_json = False
    if stripped.startswith(("{", "[")):
        with contextlib.suppress(ValueError):
            message, signals = _error_words(json.loads(stripped))
            is_json = True
        message = message or stripped
    code = _classify_text(signals) or _code_for_status(status, is_json)
    return _failure(code, message or (f"HTTP {status}" if status else ""))


def describe_image_ref(ref: str) -> str:
    """A data URI as its type and decoded size, for logs; a URL unchanged."""
    if not ref.startswith("data:"):
        return ref
    header, _comma, payload = ref.partition(",")
    mime = header.removeprefix("data:").split(";")[0]
    return f"data:{mime};base64,<{_decoded_size(payload)} bytes>"


def elide_data_uris(text: str) -> str:
    """Replace each base64 payload with its decoded size, so that a raw reply can be stored."""
    return _ELIDABLE.sub(lambda m: f"{m[1]}<{_decoded_size(m[2])} bytes>", text)


def _decoded_size(payload: str) -> int:
    return len(re.sub(r"[^A-Za-z0-9+/_-]", "", payload)) * 3 // 4


def _failure(code: str, detail: str = "", reason: str = "") -> Failure:
    return Failure(code, _clean(detail), reason)


def _clean(text: str) -> str:
    """The gateway's or model's words fit for display: no base64, no key, bounded length."""
    text = _SECRET.sub("sk-***", elide_data_uris(text)).replace("\r", "")
    text = re.sub(r"\n[ \t]*\n(?:[ \t]*\n)+", "\n\n", text).strip()
    if len(text) > DETAIL_LIMIT:
        text = text[: DETAIL_LIMIT - 1].rstrip() + "…"
    return text


def _classify_text(text: str) -> str | None:
    sample = text[:4000]
    return next((code for code, pattern in _TEXT_CLASSIFIERS if pattern.search(sample)), None)


def _code_for_status(status: int, is_json: bool) -> str:
    if status == 0 or 200 <= status < 300:
        # An error object in a successful reply is upstream's; any other body there is no reply.
        return "upstream_error" if is_json else "gateway_error"
    return _STATUS_CODES.get(status, "gateway_error")


def _error_words(error: object) -> tuple[str, str]:
    """The human message of an error object, and the text to classify it by."""
    if isinstance(error, list):
        return _error_words(error[0]) if error else ("", "")
    if not isinstance(error, Mapping):
        return str(error), str(error)
    if error.get("error") and isinstance(error["error"], (Mapping, str)):
        return _error_words(error["error"])
    message = next((str(error[k]) for k in ("message", "msg", "detail") if error.get(k)), "")
    metadata = error.get("metadata")
    raw = metadata.get("raw") if isinstance(metadata, Mapping) else None
    if isinstance(raw, str) and raw and raw not in message:
        message = f"{message}: {raw}" if message else raw  # OpenRouter's provider words
    labels = " ".join(str(error[k]) for k in ("code", "type", "status") if error.get(k))
    return message or labels, f"{labels} {message}"


def _html_summary(page: str) -> str:
    title = _HTML_TITLE.search(page[:20000])
    if title:
        text = title[1]
    else:
        text = re.sub(r"<(script|style)\b.*?</\1>", " ", page[:20000], flags=re.I | re.S)
        text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"\s+", " ", html.unescape(text)).strip()[:200]


def _image_ref(item: object) -> str | None:
    """The reference in an images entry or an image content part, in any spelling seen."""
    candidate = item
    if isinstance(item, Mapping):
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
    if closing >= 0:
        return closing + 3
    if not complete:
        return len(text)  # still being written
    # Never closed: an echo still ends where its JSON does.
    json_start = _LEADING_JSON.match(text, body_start) if body_start >= 0 else None
    return _json_object_end(text, json_start.end() - 1) if json_start else None


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


def _read_transcript(body: str) -> tuple[str | None, int | None, str]:
    """The furthest stage, the highest percent, and the model's words without the transcript."""
    stage, progress, words = None, None, []
    for line in body.split("\n"):
        status = _status_of_line(line)
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
) -> Failure | None:
    if error:
        message, signals = _error_words(error)
        return _failure(_classify_text(signals) or "upstream_error", message or words)
    if _FILTERED_FINISH.search(finish_reason or ""):
        return _failure("content_filtered", words)
    if finish_reason == "error":
        return _failure(_classify_text(words) or "upstream_error", words)
    if not complete:
        return None
    if _cut_off(finish_reason):
        return _failure("interrupted", words, "cut_off")
    if _FAILED_GENERATION.search(words):
        return _failure(_classify_text(words) or "content_filtered", words)
    if words.strip():
        return _failure("refused", words)
    facts = "completion_tokens: 0" if completion_tokens == 0 else ""
    return _failure("refused", facts, "empty")


def _cut_off(finish_reason: str | None) -> bool:
    return (finish_reason or "").lower() in ("length", "max_tokens")
