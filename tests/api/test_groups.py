"""/api/v1/batches and /api/v1/comparisons through the API client, their edits run in this
process: by the demo gateway, or by a scripted one where a comparison needs one model to fail."""

import base64
import json

import pytest
from django.urls import reverse

from accounts.models import ApiToken
from editor.models import Edit, EditGroup
from tests.support.factories import upload
from tests.support.fetch_servers import PNG
from tests.support.scripted_gateway import Scripted, ScriptedGateway
from tests.support.upload_samples import camera_jpeg

COMPARED = ["gpt-4o-image", "gpt-image-1"]


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def damaged_jpeg() -> bytes:
    """A JPEG the request takes (it ends as a JPEG should) and the worker cannot read."""
    whole = camera_jpeg()
    scan = whole.index(b"\xff\xda")
    return whole[:scan] + b"\xff\xc4\x00\x01" + whole[scan:]


def post(client, token, run_jobs, name, **fields):
    data = {"instruction": "invert the colours", **fields}
    with run_jobs():
        return client.post(reverse(name), data, **bearer(token))


def group_of(client, token, response) -> dict:
    assert response.status_code == 202, response.content
    return client.get(response.json()["url"], **bearer(token)).json()


@pytest.fixture
def batch_of_three(client, owner_token, run_jobs):
    """A batch of three pictures, the second of which fails in the worker."""
    images = [upload("a.jpg"), upload("b.jpg", damaged_jpeg()), upload("c.jpg")]
    return post(client, owner_token, run_jobs, "api_batches", image=images, size="1:1")


def test_a_batch_edits_each_picture_on_its_own(client, owner_token, batch_of_three):
    accepted = batch_of_three.json()
    assert accepted["kind"] == "batch"
    assert accepted["url"].endswith(reverse("api_batch", args=[accepted["id"]]))
    assert len(accepted["edits"]) == 3

    batch = group_of(client, owner_token, batch_of_three)
    assert (batch["status"], batch["winner"]) == ("partial", None)
    assert batch["counts"] == {
        "queued": 0, "running": 0, "succeeded": 2, "failed": 1, "canceled": 0,
    }  # fmt: skip
    assert [edit["status"] for edit in batch["edits"]] == ["succeeded", "failed", "succeeded"]
    assert batch["edits"][1]["error"]["code"] == "unreadable_picture"
    assert batch["edits"][0]["error"] is None

    first = client.get(batch["edits"][0]["url"], **bearer(owner_token)).json()
    assert first["group"] == batch["id"]
    assert first["options"]["size"] == "1:1"
    assert [source["url"] for source in first["sources"]]
    assert Edit.objects.filter(group_id=batch["id"]).count() == 3


def test_a_failure_a_retry_would_repeat_is_not_retried(client, owner_token, batch_of_three):
    retry = reverse("api_batch_retry", args=[batch_of_three.json()["id"]])
    response = client.post(retry, **bearer(owner_token))
    assert (response.status_code, response.json()["error"]["code"]) == (409, "not_retryable")


def test_retrying_a_batch_runs_only_its_failed_edit_again(
    client, owner_token, run_jobs, scripted, django_capture_on_commit_callbacks
):
    scripted(MADE, BUSY, MADE)  # the second picture meets a busy gateway
    images = [upload("a.jpg"), upload("b.jpg"), upload("c.jpg")]
    batch = group_of(
        client, owner_token, post(client, owner_token, run_jobs, "api_batches", image=images)
    )
    assert [edit["status"] for edit in batch["edits"]] == ["succeeded", "failed", "succeeded"]
    assert batch["edits"][1]["error"]["code"] == "rate_limited"
    retry = reverse("api_batch_retry", args=[batch["id"]])
    with django_capture_on_commit_callbacks() as enqueued:
        response = client.post(retry, **bearer(owner_token))
    assert response.status_code == 202
    assert len(enqueued) == 1
    retried = response.json()
    assert [edit["status"] for edit in retried["edits"]] == ["succeeded", "queued", "succeeded"]
    assert (retried["status"], retried["counts"]["queued"]) == ("active", 1)
    assert retried["edits"][1]["id"] == batch["edits"][1]["id"]  # the same edit, run again


def test_a_batch_with_nothing_to_retry(client, owner_token, run_jobs):
    response = post(client, owner_token, run_jobs, "api_batches", image=[upload(), upload()])
    batch = group_of(client, owner_token, response)
    assert batch["status"] == "succeeded"
    again = client.post(reverse("api_batch_retry", args=[batch["id"]]), **bearer(owner_token))
    assert (again.status_code, again.json()["error"]["code"]) == (409, "not_retryable")


def test_deleting_a_batch_deletes_its_edits(client, owner_token, batch_of_three):
    url = batch_of_three.json()["url"]
    assert client.delete(url, **bearer(owner_token)).status_code == 204
    assert not Edit.objects.exists() and not EditGroup.objects.exists()
    assert client.get(url, **bearer(owner_token)).status_code == 404


@pytest.mark.parametrize(
    ("fields", "status", "code", "field"),
    [
        ({}, 400, "required", "image"),
        ({"image": [upload()], "instruction": ""}, 400, "required", "instruction"),
        ({"image": [upload()], "size": "1x1"}, 400, "min_value", "size"),
        ({"image": [upload(), upload(), upload()]}, 400, "too_many", "image"),
        (
            {"image": [upload("x.png", b"not a picture", "image/png")]},
            400,
            "invalid_image",
            "image",
        ),
    ],
)
def test_a_batch_that_is_not_in_order(
    client, owner_token, run_jobs, settings, fields, status, code, field
):
    settings.GAITU_BATCH_MAX = 2
    response = post(client, owner_token, run_jobs, "api_batches", **fields)
    assert response.status_code == status
    assert (response.json()["error"]["code"], response.json()["error"]["field"]) == (code, field)
    assert not EditGroup.objects.exists()


def test_batches_are_held_to_the_same_limits(client, owner_token, run_jobs, settings):
    post(client, owner_token, run_jobs, "api_edits")
    settings.GAITU_RATE_LIMIT = 1
    limited = post(client, owner_token, run_jobs, "api_batches", image=[upload()])
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) == limited.json()["error"]["retry_after"]
    settings.GAITU_RATE_LIMIT = 0
    settings.GAITU_STORAGE_QUOTA_MB = 1
    Edit.objects.get().sources.create(size=2**20, content_type="image/jpeg")
    full = post(client, owner_token, run_jobs, "api_comparisons", models=COMPARED)
    assert (full.status_code, full.json()["error"]["code"]) == (507, "quota_exceeded")
    assert not EditGroup.objects.exists()


def answer(body: dict, status: int = 200) -> Scripted:
    return Scripted(
        status=status, content_type="application/json", pieces=[json.dumps(body).encode()]
    )


PICTURE = "data:image/png;base64," + base64.b64encode(PNG).decode()
MADE = answer(
    {
        "choices": [
            {"index": 0, "message": {"content": f"![done]({PICTURE})"}, "finish_reason": "stop"}
        ]
    }
)
BUSY = answer({"error": {"message": "too many requests", "code": "rate_limited"}}, status=429)
NO_CHANNEL = answer({"error": {"message": "no channel", "code": "model_not_found"}}, status=503)


@pytest.fixture
def scripted(settings):
    """Edits run against a gateway that gives these answers, one a request, in turn."""
    running = []

    def scripted(*answers: Scripted) -> ScriptedGateway:
        gateway = ScriptedGateway(*answers)
        settings.GAITU_DEMO = False
        settings.GAITU_API_BASE = gateway.url
        settings.GAITU_API_KEY = "sk-test-not-real"
        settings.GAITU_STREAM = False
        running.append(gateway.__enter__())
        return gateway

    yield scripted
    for gateway in running:
        gateway.__exit__(None, None, None)


@pytest.fixture
def one_model_fails(scripted):
    """The first request's picture is made, the second one refused."""
    return scripted(MADE, NO_CHANNEL)


def test_a_comparison_shows_each_models_edit(client, owner_token, run_jobs, one_model_fails):
    response = post(client, owner_token, run_jobs, "api_comparisons", models=COMPARED)
    comparison = group_of(client, owner_token, response)
    assert comparison["kind"] == "comparison"
    assert comparison["status"] == "partial"
    by_model = {edit["model"]: edit for edit in comparison["edits"]}
    assert set(by_model) == set(COMPARED)
    asked = [request["json"]["model"] for request in one_model_fails.requests]
    assert sorted(asked) == sorted(COMPARED)
    succeeded, failed = by_model[asked[0]], by_model[asked[1]]
    assert (succeeded["status"], succeeded["error"]) == ("succeeded", None)
    assert failed["status"] == "failed" and failed["error"]["code"]
    edit = client.get(succeeded["url"], **bearer(owner_token)).json()
    assert (edit["kind"], edit["group"]) == ("generation", comparison["id"])


def test_the_winner_of_a_comparison(client, owner_token, run_jobs, one_model_fails):
    response = post(client, owner_token, run_jobs, "api_comparisons", models=COMPARED)
    comparison = group_of(client, owner_token, response)
    winner = reverse("api_comparison_winner", args=[comparison["id"]])
    succeeded, failed = sorted(comparison["edits"], key=lambda e: e["status"] != "succeeded")

    def pick(edit_id):
        return client.post(
            winner, {"edit_id": edit_id}, content_type="application/json", **bearer(owner_token)
        )

    picked = pick(succeeded["id"])
    assert (picked.status_code, picked.json()["winner"]) == (200, succeeded["id"])
    assert EditGroup.objects.get().winner_id is not None

    refused = pick(failed["id"])
    assert refused.status_code == 409
    assert (refused.json()["error"]["code"], refused.json()["error"]["field"]) == (
        "not_a_contender",
        "edit_id",
    )
    stray = Edit.objects.create(owner=Edit.objects.first().owner, instruction="x", model="m")
    elsewhere = pick(str(stray.pk))
    assert elsewhere.status_code == 409
    assert (elsewhere.json()["error"]["code"], elsewhere.json()["error"]["field"]) == (
        "not_a_contender",
        "edit_id",
    )
    assert pick("not an id").status_code == 400
    assert str(EditGroup.objects.get().winner_id) == succeeded["id"]  # refusals change nothing

    none = pick(None)
    assert (none.status_code, none.json()["winner"]) == (200, None)
    assert EditGroup.objects.get().winner is None


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"models": ["gpt-4o-image"]}, "compare_count", "models"),
        ({"models": ["gpt-4o-image", "gpt-4o-image"]}, "compare_count", "models"),
        ({"models": ["gpt-4o-image", "no-such-model"]}, "invalid_choice", "models"),
        ({"models": COMPARED, "n": "9"}, "max_value", "n"),
    ],
)
def test_a_comparison_that_is_not_in_order(client, owner_token, run_jobs, fields, code, field):
    response = post(client, owner_token, run_jobs, "api_comparisons", **fields)
    assert response.status_code == 400
    assert (response.json()["error"]["code"], response.json()["error"]["field"]) == (code, field)
    assert not EditGroup.objects.exists()


def test_another_persons_groups_are_not_found(client, owner_token, stranger, batch_of_three):
    batch = batch_of_three.json()
    token = ApiToken.issue(stranger)[1]
    for method, name in [
        ("get", "api_batch"),
        ("delete", "api_batch"),
        ("post", "api_batch_retry"),
    ]:
        response = getattr(client, method)(reverse(name, args=[batch["id"]]), **bearer(token))
        assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")
    assert EditGroup.objects.get().edits.count() == 3
    comparison = EditGroup.objects.create(owner=Edit.objects.first().owner, kind="comparison")
    winner = reverse("api_comparison_winner", args=[comparison.pk])
    for body in ("", '{"edit_id": null}'):
        answer = client.post(winner, body, content_type="application/json", **bearer(token))
        assert answer.status_code == 404
    # A batch is no comparison, even to its owner.
    mistaken = client.get(reverse("api_comparison", args=[batch["id"]]), **bearer(owner_token))
    assert mistaken.status_code == 404
    winner = client.post(
        reverse("api_comparison_winner", args=[batch["id"]]),
        {"edit_id": None},
        content_type="application/json",
        **bearer(owner_token),
    )
    assert winner.status_code == 404


def test_what_is_not_a_group_id_names_no_group(client, owner_token):
    response = client.get("/api/v1/batches/nonsense", **bearer(owner_token))
    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")
    assert "batch" in response.json()["error"]["message"]
