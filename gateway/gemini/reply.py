"""Reading Gemini's GenerateContentResponse: the pictures in it, the model's words, why not.

A reply (or each event of a stream) is `{"candidates": [{"content": {"parts": [...]},
"finishReason": ..., "safetyRatings": [...]}], "promptFeedback": {...}, "usageMetadata": {...}}`.
Pictures are `inlineData` parts (base64), or `fileData` links; relays in front of Gemini also
spell them `inline_data` / `mime_type`, give bare MIME types ("png") and leave empty
`inlineData: {}` parts behind, so every spelling is read.
"""

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from ..chat.errors import DETAIL_LIMIT, classify_http_error, elide_data_uris
from ..failures import Failure
from ..transport import ParsedReply

RAW_REPLY_LIMIT = 256 * 2**10

# The finish reasons by which Gemini says a safety or policy filter stopped it.
# RECITATION (and IMAGE_RECITATION) is the filter for reproducing protected material: not a
# moderation verdict on the instruction as such, but a filter all the same, which the same
# words ("the model's filter stopped it; change the instruction") fit better than a refusal.
FILTERED_FINISH = frozenset(
    {
        "SAFETY",
        "PROHIBITED_CONTENT",
        "BLOCKLIST",
        "SPII",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "RECITATION",
        "IMAGE_RECITATION",
    }
)
CUT_OFF_FINISH = frozenset({"MAX_TOKENS"})
# The reasons of a reply that ended normally, or did not say: only after one of these can a
# missing picture be the relay's loss. NO_IMAGE, IMAGE_OTHER, OTHER and the rest are the
# model's own word that it made none.
NORMAL_FINISH = frozenset({"", "STOP", "FINISH_REASON_UNSPECIFIED"})
# An image costs Gemini's image models about 1,290 output tokens (more at higher sizes);
# a reply that had no picture but was billed this many had one, and lost it on the way.
PICTURE_TOKENS = 1000

# Google's error statuses (google.rpc.Code) and what each means here.
_ERROR_STATUSES = {
    "UNAUTHENTICATED": "key_rejected",
    "PERMISSION_DENIED": "key_rejected",
    "RESOURCE_EXHAUSTED": "rate_limited",  # or quota_exhausted: see _exhausted()
    "NOT_FOUND": "model_unavailable",
    "INVALID_ARGUMENT": "bad_request",
    "FAILED_PRECONDITION": "bad_request",
    "OUT_OF_RANGE": "bad_request",
    "UNAVAILABLE": "gateway_error",
    "INTERNAL": "gateway_error",
    "UNKNOWN": "gateway_error",
    "CANCELLED": "gateway_error",
    "ABORTED": "gateway_error",
    "DATA_LOSS": "gateway_error",
    "UNIMPLEMENTED": "bad_request",
    "DEADLINE_EXCEEDED": "timeout",
}
# ErrorInfo reasons that say the key itself is the problem, whatever the status (an invalid
# key is a 400 INVALID_ARGUMENT with reason API_KEY_INVALID).
_KEY_REASONS = re.compile(r"^(API_KEY_|ACCESS_TOKEN_|CONSUMER_|SERVICE_DISABLED)")
_STATUS_FOR_CODE = {
    400: "bad_request",
    401: "key_rejected",
    403: "key_rejected",
    404: "model_unavailable",
    429: "rate_limited",
    504: "timeout",
}
# A quota run out, as opposed to too many requests at once. Gemini's own 429 says "You
# exceeded your current quota" for a per-minute limit too, so its QuotaFailure details are
# asked first (_exhausted); these words decide only when it gives none.
_QUOTA_WORDS = re.compile(
    r"quota|billing|credits?\b|balance|额度|余额|insufficient|limit:\s*0\b", re.I
)
_CREDITS_GONE = re.compile(r"credits?\b.{0,40}\b(?:depleted|exhausted)|prepayment", re.I)
_SHORT_WINDOW = re.compile(r"per.?(?:minute|second)|PerMinute|PerSecond|\bRPM\b|\bTPM\b", re.I)

_BARE_MIME = {"jpg": "jpeg", "jpe": "jpeg", "svg": "svg+xml"}
# The first base64 characters of each picture format, for an inlineData without a MIME type.
_MAGIC = (
    ("iVBOR", "image/png"),
    ("/9j/", "image/jpeg"),
    ("UklGR", "image/webp"),
    ("R0lGOD", "image/gif"),
)
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/=]")
# Long opaque values kept out of the record: picture data and Gemini 3's thought signatures.
_ELIDED_KEYS = frozenset({"data", "thoughtSignature", "thought_signature"})


class GeminiReply:
    """Feeds on GenerateContentResponse objects (a whole reply, or each event of a stream)."""

    def __init__(self) -> None:
        self.images: list[str] = []
        self._words: list[str] = []
        self.finish_reasons: dict[int, str] = {}
        self.finish_message = ""
        self.safety_ratings: list[Mapping] = []
        self.prompt_feedback: Mapping = {}
        self.usage: dict = {}
        self.error: Mapping | None = None
        # Whether any reply object came (not only an error): the model had begun answering.
        self.answered = False
        self._record: list[str] = []
        self._record_size = 0

    @property
    def text(self) -> str:
        """What the model said in words (its thoughts left out), for a refusal's detail."""
        return "".join(self._words).strip()

    def feed(self, response: object) -> None:
        if isinstance(response, list):  # streamGenerateContent without alt=sse: a JSON array
            for item in response:
                self.feed(item)
            return
        if not isinstance(response, Mapping):
            return
        self._keep(response)
        error = response.get("error")
        if error:
            self.error = error if isinstance(error, Mapping) else {"message": str(error)}
        if "candidates" in response or "usageMetadata" in response or "promptFeedback" in response:
            self.answered = True
        if isinstance(response.get("usageMetadata"), Mapping):
            self.usage = dict(response["usageMetadata"])
        if isinstance(response.get("promptFeedback"), Mapping):
            self.prompt_feedback = response["promptFeedback"]
        candidates = response.get("candidates")
        for position, candidate in enumerate(candidates if isinstance(candidates, list) else ()):
            if isinstance(candidate, Mapping):
                self._take_candidate(position, candidate)

    def result(self, complete: bool = True) -> ParsedReply:
        if self.images:
            return ParsedReply(list(self.images), "done", 100, None)
        if not complete:
            return ParsedReply([], "generating" if self.answered else None, None, None)
        return ParsedReply([], None, None, self._failure())

    def raw(self) -> str:
        """What the gateway said, one reply object a line, picture data elided."""
        return "\n".join(self._record)[:RAW_REPLY_LIMIT]

    def _take_candidate(self, position: int, candidate: Mapping) -> None:
        index = candidate.get("index")
        index = index if isinstance(index, int) else position
        content = candidate.get("content")
        parts = content.get("parts") if isinstance(content, Mapping) else None
        for part in parts if isinstance(parts, list) else ():
            if isinstance(part, Mapping):
                self._take_part(part)
        reason = candidate.get("finishReason") or candidate.get("finish_reason")
        if isinstance(reason, str) and reason:
            self.finish_reasons[index] = reason.upper()
        message = candidate.get("finishMessage") or candidate.get("finish_message")
        if isinstance(message, str) and message:
            self.finish_message = message
        ratings = candidate.get("safetyRatings") or candidate.get("safety_ratings")
        if isinstance(ratings, list):
            self.safety_ratings += [r for r in ratings if isinstance(r, Mapping)]

    def _take_part(self, part: Mapping) -> None:
        # Gemini 3's thinking may draw interim pictures; only the final ones are results,
        # and its thought summaries are not what it says to the person.
        if part.get("thought") is True:
            return
        text = part.get("text")
        if isinstance(text, str):
            self._words.append(text)
        picture = picture_of(part)
        if picture:
            self.images.append(picture)

    def _failure(self) -> Failure:
        words = self.text
        block = self.prompt_feedback.get("blockReason") or self.prompt_feedback.get("block_reason")
        if block:
            ratings = self.prompt_feedback.get("safetyRatings")
            categories = _blocked_categories(ratings if isinstance(ratings, list) else [])
            message = self.prompt_feedback.get("blockReasonMessage") or ""
            return _failure(
                "content_filtered",
                _joined(f"prompt blocked: {_with_categories(str(block), categories)}", message),
            )
        reasons = list(self.finish_reasons.values())
        filtered = next((r for r in reasons if r in FILTERED_FINISH), None)
        if filtered:
            categories = _blocked_categories(self.safety_ratings)
            return _failure(
                "content_filtered",
                _joined(_with_categories(filtered, categories), self.finish_message, words),
            )
        if any(r in CUT_OFF_FINISH for r in reasons):
            return _failure("interrupted", _joined(words, "finishReason: MAX_TOKENS"), "cut_off")
        reason = reasons[0] if reasons else ""
        if all(r in NORMAL_FINISH for r in reasons) and self._picture_billed():
            tokens = self.usage.get("candidatesTokenCount")
            return _failure(
                "picture_lost", _joined(words, f"candidatesTokenCount: {tokens}, no image")
            )
        if words:
            return _failure("refused", _joined(words, self.finish_message))
        said = _joined(self.finish_message, f"finishReason: {reason}" if reason else "")
        return _failure("refused", said, "empty")

    def _picture_billed(self) -> bool:
        details = self.usage.get("candidatesTokensDetails")
        for entry in details if isinstance(details, list) else ():
            if isinstance(entry, Mapping) and str(entry.get("modality", "")).upper() == "IMAGE":
                count = entry.get("tokenCount")
                if isinstance(count, int) and count > 0:
                    return True
        tokens = self.usage.get("candidatesTokenCount")
        return isinstance(tokens, int) and tokens >= PICTURE_TOKENS

    def _keep(self, response: Mapping) -> None:
        if self._record_size > RAW_REPLY_LIMIT:
            return
        line = elide_data_uris(json.dumps(_elided(response), ensure_ascii=False))
        self._record.append(line)
        self._record_size += len(line) + 1


def picture_of(part: Mapping) -> str | None:
    """The picture in one part, as a data: URI or a link; None for words or an empty part."""
    inline = part.get("inlineData") or part.get("inline_data")
    if isinstance(inline, Mapping):
        data = inline.get("data")
        if not isinstance(data, str) or not data.strip():
            return None  # the empty inlineData: {} some relays leave beside the picture
        if data.lstrip()[:5].lower() == "data:":
            return data.strip()
        # Line breaks in the base64 are common, and the URL-safe alphabet is legal in proto JSON.
        payload = _NOT_BASE64.sub("", data.replace("-", "+").replace("_", "/"))
        mime = image_mime(inline.get("mimeType") or inline.get("mime_type"), payload)
        return f"data:{mime};base64,{payload}" if mime and payload else None
    linked = part.get("fileData") or part.get("file_data")
    if isinstance(linked, Mapping):
        uri = linked.get("fileUri") or linked.get("file_uri")
        declared = str(linked.get("mimeType") or linked.get("mime_type") or "image/")
        if isinstance(uri, str) and re.match(r"(?i)https?://", uri) and "image" in declared:
            return uri.strip()
    return None


def image_mime(declared: object, payload: str = "") -> str | None:
    """The picture's MIME type, from what the part declared ("image/png", or a bare "png")
    or, when it declared none, from its first bytes; None when it is not a picture."""
    mime = str(declared or "").split(";")[0].strip().lower()
    if mime in ("", "application/octet-stream", "image", "image/*"):
        return next((kind for head, kind in _MAGIC if payload.startswith(head)), "image/png")
    if "/" not in mime:
        return f"image/{_BARE_MIME.get(mime, mime)}"
    kind, _slash, subtype = mime.partition("/")
    return f"image/{_BARE_MIME.get(subtype, subtype)}" if kind == "image" else None


def nearest_ratio(ratio: str, offered: tuple[str, ...]) -> str:
    """The offered aspect ratio nearest the one asked (a pixel size's own ratio, 1000:617)."""
    if ratio in offered:
        return ratio

    def spread(candidate: str) -> float:
        (width, height), (w, h) = _sides(ratio), _sides(candidate)
        return abs(math.log(width / height) - math.log(w / h))

    return min(offered, key=spread)


def _sides(ratio: str) -> tuple[float, float]:
    width, _colon, height = ratio.partition(":")
    return float(width), float(height)


def classify_error(status: int, body: str, content_type: str = "") -> tuple[Failure, float | None]:
    """An error reply as a Failure, and the wait Google's RetryInfo asks for (None: none).

    Google's own envelope is read by its status and details; any other (an OpenAI-style
    envelope from a relay, an HTML page) by the chat transport's rules.
    """
    error = google_error(body)
    if error is None:
        return classify_http_error(status, body, content_type), None
    return google_failure(error), retry_delay(error)


def google_error(body: str | object) -> Mapping | None:
    """The error object of Google's envelope {"error": {"code", "message", "status"}}."""
    parsed: object = body
    if isinstance(body, str):
        try:
            parsed = json.loads(body)
        except ValueError:
            return None
    if isinstance(parsed, list) and parsed:
        parsed = parsed[0]  # streamGenerateContent's JSON array form
    error = parsed.get("error") if isinstance(parsed, Mapping) else None
    if not isinstance(error, Mapping):
        return None
    status, code = error.get("status"), error.get("code")
    if isinstance(status, str) and status in _ERROR_STATUSES:
        return error
    # A code as a number alone is Google's too; relays' codes are words ("model_not_found").
    if isinstance(code, int) and not isinstance(code, bool) and "type" not in error:
        return error
    return None


def google_failure(error: Mapping) -> Failure:
    status = str(error.get("status") or "")
    code = error.get("code")
    reasons = _detail_reasons(error)
    message = str(error.get("message") or "") or " ".join([status, *reasons]).strip()
    if any(_KEY_REASONS.match(reason) for reason in reasons):
        return _failure("key_rejected", message)
    failure_code = _ERROR_STATUSES.get(status)
    if failure_code is None:
        number = code if isinstance(code, int) else 0
        failure_code = _STATUS_FOR_CODE.get(number, "gateway_error" if number >= 500 else "")
        failure_code = failure_code or "upstream_error"
    if failure_code == "rate_limited" and _exhausted(error, message):
        failure_code = "quota_exhausted"
    # Prepaid credits run out come as 402 FAILED_PRECONDITION: not a bad request, a quota.
    if code == 402 or (status == "FAILED_PRECONDITION" and _CREDITS_GONE.search(message)):
        failure_code = "quota_exhausted"
    return _failure(failure_code, message or f"HTTP {code}")


def error_status(error: Mapping) -> int:
    """The HTTP status an error object names (an error inside a 200 stream), or 0."""
    code = error.get("code")
    return code if isinstance(code, int) and 400 <= code <= 599 else 0


def retry_delay(error: Mapping) -> float | None:
    """Seconds from a google.rpc.RetryInfo detail ("retryDelay": "39s")."""
    for detail in _details(error):
        delay = detail.get("retryDelay")
        if isinstance(delay, str) and (match := re.fullmatch(r"\s*(\d+(?:\.\d+)?)s\s*", delay)):
            return float(match[1])
    return None


def _exhausted(error: Mapping, message: str) -> bool:
    """Whether RESOURCE_EXHAUSTED means a quota run out rather than too many at once."""
    quota_ids = [
        f"{violation.get('quotaId', '')} {violation.get('quotaMetric', '')}"
        for detail in _details(error)
        for violation in detail.get("violations") or ()
        if isinstance(violation, Mapping)
    ]
    if quota_ids:
        # A per-minute or per-second limit passes in a moment; a daily one, or a free tier's
        # zero, does not.
        return not all(_SHORT_WINDOW.search(quota) for quota in quota_ids) or bool(
            re.search(r"limit:\s*0\b", message)
        )
    return bool(_QUOTA_WORDS.search(message))


def _details(error: Mapping) -> list[Mapping]:
    details = error.get("details")
    return [d for d in details if isinstance(d, Mapping)] if isinstance(details, list) else []


def _detail_reasons(error: Mapping) -> list[str]:
    return [str(d["reason"]) for d in _details(error) if d.get("reason")]


def _blocked_categories(ratings: list) -> list[str]:
    blocked = [r for r in ratings if isinstance(r, Mapping) and r.get("blocked") is True]
    if not blocked:  # some replies only say how likely harm was
        blocked = [
            r for r in ratings if isinstance(r, Mapping) and r.get("probability") in ("HIGH",)
        ]
    names = [str(r.get("category", "")).removeprefix("HARM_CATEGORY_") for r in blocked]
    return list(dict.fromkeys(name for name in names if name))


def _with_categories(reason: str, categories: list[str]) -> str:
    return f"{reason} ({', '.join(categories)})" if categories else reason


def _joined(*pieces: object) -> str:
    return "\n".join(str(piece).strip() for piece in pieces if piece and str(piece).strip())


def _failure(code: str, detail: str = "", reason: str = "") -> Failure:
    detail = elide_data_uris(detail).strip()
    if len(detail) > DETAIL_LIMIT:
        detail = detail[: DETAIL_LIMIT - 1].rstrip() + "…"
    return Failure(code, detail, reason)


def _elided(value: Any, key: str = "") -> Any:
    if isinstance(value, Mapping):
        return {k: _elided(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_elided(item) for item in value]
    if key in _ELIDED_KEYS and isinstance(value, str) and len(value) > 64:
        return f"<{len(_NOT_BASE64.sub('', value)) * 3 // 4} bytes>"
    return value
