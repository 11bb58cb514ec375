"""How a gateway request can fail: a code from one catalogue, and the gateway's own words.

The codes are stable (the JSON API shows them, edits store them); the sentence a person reads
for each code is the Django app's to write, in their language (editor/failures.py).
"""

from dataclasses import dataclass

CODES = frozenset(
    {
        "key_rejected",
        "quota_exhausted",
        "rate_limited",
        "model_unavailable",
        "gateway_error",
        "bad_request",
        "timeout",
        "connection_failed",
        "upstream_error",
        "content_filtered",
        "refused",
        "download_failed",
        "link_blocked",
        "unreadable_picture",
        "interrupted",
        "internal",
        "storage_full",  # not the gateway's: Gaitu's own disk, but an edit's failure all the same
    }
)


@dataclass(frozen=True)
class Failure:
    code: str  # one of CODES
    detail: str = ""  # the gateway's or the model's own words, verbatim and trimmed
    # A finer reason within the code, where the app says something more precise:
    # "cut_off" (interrupted by the output limit), "empty" (refused without a word).
    reason: str = ""

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown failure code {self.code!r}")


class GatewayFailure(Exception):
    """The gateway could not give a reply. `retryable` failures may go better a moment later."""

    def __init__(
        self,
        failure: Failure,
        raw_text: str = "",
        *,
        retryable: bool = False,
        retry_after: float | None = None,
    ):
        super().__init__(failure.code)
        self.failure = failure
        self.raw_text = raw_text
        self.retryable = retryable
        self.retry_after = retry_after
