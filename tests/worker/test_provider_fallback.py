"""Several providers for a model, through the worker over real local sockets: the edit moves
to the next provider on a failure before any output, says so, and never asks twice for a
generation that may have been paid for."""

from datetime import timedelta

import pytest
from django.utils import timezone

from editor.models import Edit
from gateway.options import RequestOptions
from providers.models import ModelRoute, Provider, ProviderCall
from tests.worker.test_options_sent import (
    RecordingGateway,
    _Handler,
    finished,
    one_picture_each,
    started_edit,
)
from worker.recovery import recover_interrupted

MODEL = "gpt-4o-image"


def unavailable(arrival: int, body: dict, handler: _Handler) -> None:
    handler.send_json(503, {"error": {"message": "当前分组上游负载已饱和，请稍后再试",
                                      "type": "new_api_error"}})  # fmt: skip


def rate_limited(arrival: int, body: dict, handler: _Handler) -> None:
    handler.send_bytes(429, b'{"error": {"message": "slow down", "code": "rate_limit"}}',
                       "application/json")  # fmt: skip


def begins_then_drops(arrival: int, body: dict, handler: _Handler) -> None:
    """The model had begun to answer (progress went out), then the connection went."""
    handler.start_stream()
    handler.content("> 生成中... 40%\n")
    handler.close_connection = True
    handler.connection.shutdown(2)


def refuses(arrival: int, body: dict, handler: _Handler) -> None:
    message = {"content": "I can't help with that."}
    handler.send_json(200, {"choices": [{"index": 0, "finish_reason": "stop", "message": message}]})


@pytest.fixture
def gateways(settings):
    """The environment's gateway and one provider, 云雾, each a RecordingGateway; the model's
    order: the environment first, then 云雾."""
    started: list[RecordingGateway] = []

    def gateways(environment, provider) -> tuple[RecordingGateway, RecordingGateway]:
        first, second = RecordingGateway(environment), RecordingGateway(provider)
        started.extend([first, second])
        settings.GAITU_DEMO = False
        settings.GAITU_API_BASE = first.url
        settings.GAITU_API_KEY = "sk-environment-not-real"
        settings.GAITU_STREAM = False
        cloud = Provider(name="云雾", base_url=second.url, transport="chat", model_names=[MODEL])
        cloud.set_key("sk-provider-not-real")
        cloud.save()
        ModelRoute.objects.create(model=MODEL, provider=None, position=0)
        ModelRoute.objects.create(model=MODEL, provider=cloud, position=1)
        return first, second

    yield gateways
    for server in started:
        server.stop()


def test_a_503_moves_the_edit_to_the_next_provider_and_the_card_says_so(owner, gateways):
    environment, cloud = gateways(unavailable, one_picture_each)
    edit = finished(started_edit(owner, MODEL, RequestOptions()))
    assert edit.status == Edit.Status.SUCCEEDED, (edit.error_code, edit.error_detail)
    assert (len(environment.bodies), len(cloud.bodies)) == (1, 1)
    assert edit.switches == [{"left": "127.0.0.1", "to": "云雾", "after": "503"}]
    assert edit.switch_notes == [{"to": "云雾", "after": "503"}]
    assert (edit.provider, edit.transport) == ("云雾", "chat")
    # The second provider got its own key, never the environment's.
    calls = list(ProviderCall.objects.order_by("at").values_list("provider__name", "failure_code"))
    assert calls == [(None, "rate_limited"), ("云雾", "")]  # "saturated": a load limit


def test_a_rate_limit_moves_on_at_once_rather_than_waiting_out_retries(owner, gateways):
    environment, _cloud = gateways(rate_limited, one_picture_each)
    edit = finished(started_edit(owner, MODEL, RequestOptions()))
    assert edit.status == Edit.Status.SUCCEEDED
    assert len(environment.bodies) == 1  # no backoff and second try before moving on
    assert edit.switch_notes == [{"to": "云雾", "after": "429"}]


def test_never_after_the_model_had_begun_to_answer(owner, gateways, settings):
    _environment, cloud = gateways(begins_then_drops, one_picture_each)
    settings.GAITU_STREAM = True
    edit = finished(started_edit(owner, MODEL, RequestOptions()))
    assert edit.status == Edit.Status.FAILED
    assert edit.error_code == "connection_failed"
    assert cloud.bodies == []  # possibly paid for: not asked again elsewhere
    assert edit.switches == []


def test_a_refusal_is_the_models_answer_not_the_providers_failure(owner, gateways):
    _environment, cloud = gateways(refuses, one_picture_each)
    edit = finished(started_edit(owner, MODEL, RequestOptions()))
    assert (edit.status, edit.error_code) == (Edit.Status.FAILED, "refused")
    assert cloud.bodies == []


def test_a_provider_failing_in_the_middle_of_a_burst_hands_over_to_the_next(owner, gateways):
    """The first three edits go through the environment's gateway; then it is saturated, and
    the rest of the burst goes to 云雾, each edit saying so."""

    def saturates_after_three(arrival: int, body: dict, handler: _Handler) -> None:
        if arrival < 3:
            one_picture_each(arrival, body, handler)
        else:
            unavailable(arrival, body, handler)

    _environment, cloud = gateways(saturates_after_three, one_picture_each)
    edits = [finished(started_edit(owner, MODEL, RequestOptions())) for _ in range(8)]
    assert [edit.status for edit in edits] == [Edit.Status.SUCCEEDED] * 8
    assert [edit.provider for edit in edits] == ["127.0.0.1"] * 3 + ["云雾"] * 5
    assert [len(edit.switches) for edit in edits] == [0] * 3 + [1] * 5
    assert len(cloud.bodies) == 5
    assert ProviderCall.objects.filter(provider=None).exclude(failure_code="").count() == 5


def test_the_parallel_requests_of_several_results_move_on_too(owner, gateways):
    _environment, _cloud = gateways(unavailable, one_picture_each)
    edit = finished(started_edit(owner, "gemini-2.5-flash-image", RequestOptions(n=2)))
    # That model has no order of its own: the environment only (no provider lists it).
    assert edit.status == Edit.Status.FAILED
    ModelRoute.objects.create(model="gemini-2.5-flash-image", provider=None, position=0)
    ModelRoute.objects.create(
        model="gemini-2.5-flash-image", provider=Provider.objects.get(), position=1
    )
    edit = finished(started_edit(owner, "gemini-2.5-flash-image", RequestOptions(n=2)))
    assert edit.status == Edit.Status.SUCCEEDED, (edit.error_code, edit.error_detail)
    assert edit.results.count() == 2
    assert edit.switches == [{"left": "127.0.0.1", "to": "云雾", "after": "503"}]  # said once
    assert edit.provider == "云雾"


def test_the_sweep_forgets_calls_older_than_a_day(db):
    now = timezone.now()
    for hours in (1, 23, 25, 48):
        ProviderCall.objects.create(model=MODEL, at=now - timedelta(hours=hours), seconds=1.0)
    recover_interrupted()
    assert ProviderCall.objects.count() == 2
