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
        # The model made the picture (and the gateway billed it), but the reply lost it: no
        # content while completion tokens were spent, or words promising a picture that
        # never came. The gateway's fault, not the model's refusal; Retry may help.
        "picture_lost",
        "download_failed",
        "link_blocked",
        "unreadable_picture",
        "interrupted",
        "internal",
        "storage_full",  # not the gateway's: Gaitu's own disk, but an edit's failure all the same
    }
)

# The reasons of a link_blocked failure: which rule refused the result link (gateway.fetch).
LINK_REFUSALS = frozenset(
    {
        "loopback_address",  # this machine itself: 127.0.0.0/8, ::1, localhost
        "private_address",  # a private network: 10/8, 192.168/16, fc00::/7, CGNAT…
        "link_local_address",  # 169.254/16 (cloud metadata), fe80::/10
        "unspecified_address",  # 0.0.0.0, ::
        "multicast_address",
        "reserved_address",  # documentation, benchmarking and other non-global ranges
        "scheme_not_allowed",  # not http(s), nor an inline data:image/…;base64 picture
        "credentials_in_link",  # user:password@ in the link
        "invalid_link",  # not a link that can be read: no host, a bad port
    }
)


@dataclass(frozen=True)
class Failure:
    code: str  # one of CODES
    detail: str = ""  # the gateway's or the model's own words, verbatim and trimmed
    # A finer reason within the code, where the app says something more precise:
    # "cut_off" (interrupted by the output limit), "empty" (refused without a word), and for
    # link_blocked the rule that refused the link (LINK_REFUSALS).
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
        status: int = 0,
        output_started: bool = False,
    ):
        super().__init__(failure.code)
        self.failure = failure
        self.raw_text = raw_text
        self.retryable = retryable
        self.retry_after = retry_after
        # The HTTP status the gateway answered with, when it answered with an error (0: none).
        self.status = status
        # Whether the model had begun to answer (a reply was being read) when it failed: from
        # then on the generation may be paid for, and the edit never moves to another provider.
        self.output_started = output_started
