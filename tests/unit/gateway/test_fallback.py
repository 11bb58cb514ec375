"""Several providers in order (gateway.fallback): who is asked, when the edit moves on, and
that it never moves on once the model had begun to answer."""

import pytest

from gateway.config import GatewayConfig
from gateway.failures import Failure, GatewayFailure
from gateway.fallback import MOVE_ON, Route, Switch, send_with_fallback
from gateway.transport import ImageRequest, Outcome, ParsedReply

REQUEST = ImageRequest("gpt-image-1", "a small blue square")


class Scripted:
    """A transport that gives each of its answers in turn: an Outcome, or raises a failure."""

    def __init__(self, *answers: Outcome | GatewayFailure):
        self.answers = list(answers)
        self.asked = 0

    def send(self, request, on_progress=None, client=None) -> Outcome:
        self.asked += 1
        answer = self.answers.pop(0)
        if isinstance(answer, GatewayFailure):
            raise answer
        return answer


def route(name: str, transport: Scripted, attempts: int = 3) -> Route:
    config = GatewayConfig(f"https://{name}.example", "sk-x", name=name, max_attempts=attempts)
    return Route(name, config, transport, key=name)


def picture() -> Outcome:
    return Outcome(ParsedReply(["https://cdn.example/1.png"], "done", 100, None), "", {})


def failed(code: str, *, status: int = 0, started: bool = False, retryable=False):
    return GatewayFailure(Failure(code), status=status, output_started=started, retryable=retryable)


def ask(*routes: Route, **callbacks):
    return send_with_fallback(routes, REQUEST, sleep=lambda seconds: None, **callbacks)


def test_the_first_provider_that_answers_serves_the_request():
    first, second = Scripted(picture()), Scripted(picture())
    served, outcome = ask(route("a", first), route("b", second))
    assert (served.name, first.asked, second.asked) == ("a", 1, 0)
    assert outcome.reply.images


@pytest.mark.parametrize("code", sorted(MOVE_ON))
def test_each_failure_before_output_moves_on_and_says_why(code):
    switches: list[Switch] = []
    first = Scripted(failed(code, status=503 if code == "gateway_error" else 0))
    served, _ = ask(route("a", first), route("b", Scripted(picture())), on_switch=switches.append)
    after = "503" if code == "gateway_error" else code
    assert (served.name, switches) == ("b", [Switch("a", "b", after)])


@pytest.mark.parametrize(
    "code", ["key_rejected", "quota_exhausted", "bad_request", "content_filtered"]
)
def test_failures_another_provider_would_share_or_that_are_the_persons_end_there(code):
    second = Scripted(picture())
    with pytest.raises(GatewayFailure) as raised:
        ask(route("a", Scripted(failed(code))), route("b", second))
    assert (raised.value.failure.code, second.asked) == (code, 0)


def test_never_after_the_model_had_begun_to_answer():
    """A timeout mid-reply may be a paid generation: it is not asked for twice."""
    second = Scripted(picture())
    with pytest.raises(GatewayFailure):
        ask(route("a", Scripted(failed("timeout", started=True))), route("b", second))
    assert second.asked == 0


def test_a_reply_without_a_picture_is_not_moved_on():
    """The provider did its part (the model refused, or the relay lost a billed picture)."""
    refusal = Outcome(ParsedReply([], None, None, Failure("picture_lost")), "", {})
    second = Scripted(picture())
    served, outcome = ask(route("a", Scripted(refusal)), route("b", second))
    assert (served.name, outcome.reply.failure.code, second.asked) == ("a", "picture_lost", 0)


def test_with_another_provider_to_go_to_a_transient_failure_is_not_retried_first():
    first = Scripted(failed("rate_limited", status=429, retryable=True), picture())
    served, _ = ask(route("a", first), route("b", Scripted(picture())))
    assert (served.name, first.asked) == ("b", 1)


def test_the_last_provider_gets_its_retries():
    last = Scripted(failed("gateway_error", status=502, retryable=True), picture())
    served, _ = ask(route("a", Scripted(failed("timeout"))), route("b", last))
    assert (served.name, last.asked) == ("b", 2)


def test_when_every_provider_fails_the_last_failure_is_raised_and_each_call_told():
    calls: list[tuple[str, str]] = []
    with pytest.raises(GatewayFailure) as raised:
        ask(
            route("a", Scripted(failed("timeout"))),
            route("b", Scripted(failed("connection_failed")), attempts=1),
            on_call=lambda r, seconds, problem: calls.append((r.name, problem.code)),
        )
    assert raised.value.failure.code == "connection_failed"
    assert calls == [("a", "timeout"), ("b", "connection_failed")]


def test_a_successful_call_is_told_without_a_failure():
    calls = []
    ask(route("a", Scripted(picture())), on_call=lambda r, s, problem: calls.append(problem))
    assert calls == [None]


def test_no_provider_at_all_is_a_programming_error():
    with pytest.raises(ValueError, match="no provider"):
        send_with_fallback([], REQUEST)
