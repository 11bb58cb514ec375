"""What went wrong, as a chat gateway says it: an HTTP error's body, or an error inside the
reply, named by one code of gateway.failures.CODES, with the gateway's own words kept (cleaned:
data URIs elided, keys cut). The images and Gemini transports read relays' OpenAI-style error
bodies with the same classify_http_error. No I/O.
"""

import contextlib
import html
import json
import re
from collections.abc import Mapping

from ..failures import Failure

DETAIL_LIMIT = 500

MODERATION = (
    r"moderation|violat|safety|content.?policy|content.?filter|flagged|sensitive|敏感|违规|审核"
)

_TEXT_CLASSES = [
    ("quota_exhausted", r"quota|额度|余额|insufficient.{0,20}balance|\bcredits?\b"),
    ("model_unavailable", r"model_not_found|无可用渠道|no available channel|模型.{0,40}不存在"),
    ("model_unavailable", r"model\b.{0,80}\b(?:does not exist|not found)"),
    ("rate_limited", r"饱和|负载|rate.?limit|too many requests|频率|频繁|限流|overloaded|capacity"),
    ("content_filtered", MODERATION),
    ("key_rejected", r"api.?key|令牌|unauthori[sz]ed|authenticat|invalid.?token"),
]

_TEXT_CLASSIFIERS = [(code, re.compile(pattern, re.I)) for code, pattern in _TEXT_CLASSES]

# Error codes (and types) that mean moderation whatever the message says, since a relay's
# message may be bare or say only "bad request": new-api's keyword filter, OpenAI's image
# moderation, DashScope's inspection, Zhipu's numeric "1301", Azure's policy violation.
_FILTERED_CODES = frozenset(
    {
        "sensitive_words_detected",
        "moderation_blocked",
        "data_inspection_failed",
        "1301",
        "content_filter",
        "content_policy_violation",
        "responsibleaipolicyviolation",
    }
)

# Keys whose presence in an error object says why it was blocked.
_FILTER_KEYS = ("safety_violations", "content_filter_result", "content_filter_results")

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


def classify_http_error(status: int, body: str, content_type: str = "") -> Failure:
    """Turn an HTTP error reply (JSON, an HTML page or plain text) into a Failure."""
    stripped = body.strip()
    head = stripped[:1000].lower()
    if "html" in content_type.lower() or (
        head.startswith("<") and ("<html" in head or "<!doctype" in head or "<title" in head)
    ):
        # An HTML page comes from a proxy or CDN in front of the gateway, not from the gateway.
        code = {413: "bad_request", 429: "rate_limited"}.get(status, "gateway_error")
        return make_failure(code, _html_summary(stripped) or f"HTTP {status}")
    message = signals = stripped
    error: object = None
    if stripped.startswith(("{", "[")):
        with contextlib.suppress(ValueError):
            error = json.loads(stripped)
            message, signals = error_words(error)
        message = message or stripped
    if error is not None and (status == 0 or 200 <= status < 300):
        # An error object in a successful reply is upstream's, read as one in a stream is.
        code = in_band_code(error, signals)
    elif error is not None and _filtered_by_code(error):
        code = "content_filtered"
    else:
        code = classify_text(signals) or _code_for_status(status, error is not None)
    return make_failure(code, message or (f"HTTP {status}" if status else ""))


def elide_data_uris(text: str) -> str:
    """Replace each base64 payload with its decoded size, so that a raw reply can be stored."""
    return _ELIDABLE.sub(lambda m: f"{m[1]}<{decoded_size(m[2])} bytes>", text)


def decoded_size(payload: str) -> int:
    return len(re.sub(r"[^A-Za-z0-9+/_-]", "", payload)) * 3 // 4


def make_failure(code: str, detail: str = "", reason: str = "") -> Failure:
    return Failure(code, _clean(detail), reason)


def _clean(text: str) -> str:
    """The gateway's or model's words fit for display: no base64, no key, bounded length."""
    text = _SECRET.sub("sk-***", elide_data_uris(text)).replace("\r", "")
    text = re.sub(r"\n[ \t]*\n(?:[ \t]*\n)+", "\n\n", text).strip()
    if len(text) > DETAIL_LIMIT:
        text = text[: DETAIL_LIMIT - 1].rstrip() + "…"
    return text


def classify_text(text: str) -> str | None:
    sample = text[:4000]
    return next((code for code, pattern in _TEXT_CLASSIFIERS if pattern.search(sample)), None)


def _innermost_error(error: object) -> Mapping | None:
    """The error object itself, out of the {"error": …} envelope or a list of them."""
    while True:
        if isinstance(error, list):
            error = error[0] if error else None
        elif isinstance(error, Mapping) and isinstance(error.get("error"), Mapping):
            error = error["error"]
        else:
            return error if isinstance(error, Mapping) else None


def _filtered_by_code(error: object) -> bool:
    inner = _innermost_error(error)
    if inner is None:
        return False
    innererror = inner.get("innererror")
    labels = [inner.get("code"), inner.get("type")]
    if isinstance(innererror, Mapping):
        labels.append(innererror.get("code"))
    if any(str(label).lower() in _FILTERED_CODES for label in labels if label is not None):
        return True
    holders = [inner, innererror] if isinstance(innererror, Mapping) else [inner]
    return any(holder.get(key) for holder in holders for key in _FILTER_KEYS)


def in_band_code(error: object, signals: str) -> str:
    """The code of an error that came inside a reply (HTTP 200), streamed or whole."""
    if _filtered_by_code(error):
        return "content_filtered"
    if code := classify_text(signals):
        return code
    inner = _innermost_error(error) or {}
    # `status_code` is the relay's own HTTP status, sent in the body because the stream's
    # headers had already gone (one-hub/new-api's wrapper): its failure, read as an HTTP one.
    # A `code` (OpenRouter's 502, "server_error") is the model's provider failing upstream.
    relay_status = inner.get("status_code")
    if isinstance(relay_status, int) and 400 <= relay_status < 600:
        return _STATUS_CODES.get(relay_status, "gateway_error")
    provider_status = inner.get("code")
    if isinstance(provider_status, int) and provider_status in _STATUS_CODES:
        return _STATUS_CODES[provider_status]
    return "upstream_error"


def _code_for_status(status: int, is_json: bool) -> str:
    if status == 0 or 200 <= status < 300:
        # An error object in a successful reply is upstream's; any other body there is no reply.
        return "upstream_error" if is_json else "gateway_error"
    return _STATUS_CODES.get(status, "gateway_error")


def error_words(error: object) -> tuple[str, str]:
    """The human message of an error object, and the text to classify it by."""
    if isinstance(error, list):
        return error_words(error[0]) if error else ("", "")
    if not isinstance(error, Mapping):
        return str(error), str(error)
    if error.get("error") and isinstance(error["error"], (Mapping, str)):
        return error_words(error["error"])
    message = next((str(error[k]) for k in ("message", "msg", "detail") if error.get(k)), "")
    metadata = error.get("metadata")
    raw = metadata.get("raw") if isinstance(metadata, Mapping) else None
    if isinstance(raw, str) and raw and raw not in message:
        message = f"{message}: {raw}" if message else raw  # OpenRouter's provider words
    labels = " ".join(str(error[k]) for k in ("code", "type", "status") if error.get(k))
    innererror = error.get("innererror")  # Azure's reason beside its own code
    if isinstance(innererror, Mapping) and innererror.get("code"):
        labels += f" {innererror['code']}"
    return message or labels, f"{labels} {message}"


def _html_summary(page: str) -> str:
    title = _HTML_TITLE.search(page[:20000])
    if title:
        text = title[1]
    else:
        text = re.sub(r"<(script|style)\b.*?</\1>", " ", page[:20000], flags=re.I | re.S)
        text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"\s+", " ", html.unescape(text)).strip()[:200]
