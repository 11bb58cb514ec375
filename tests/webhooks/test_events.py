"""Which ends become deliveries: an API edit's, once; never a studio edit's; a group's once."""

from accounts.models import ApiToken
from editor.events import edit_ended, group_ended
from editor.models import Edit, EditGroup
from webhooks.models import Delivery, Webhook

from .conftest import SECRET


def events(receiver) -> list[str]:
    return [request.headers["Gaitu-Event"] for request in receiver.received]


def test_an_api_edit_is_told_once_when_it_ends(webhook, receiver, token, make_edit, run_jobs):
    edit = make_edit(token)
    with run_jobs():
        edit.fail("timeout")
        edit.fail("timeout")  # not a change: no second end
    with run_jobs():
        edit_ended.send(Edit, edit=edit)  # heard twice, all the same: still one delivery

    assert events(receiver) == ["edit.ended"]
    payload = receiver.received[0].payload["edit"]
    assert (payload["status"], payload["error_code"]) == ("failed", "timeout")


def test_an_edit_retried_is_told_again_when_it_ends_again(
    webhook, receiver, token, make_edit, run_jobs
):
    edit = make_edit(token)
    with run_jobs():
        edit.fail("timeout")
    edit.requeue()
    edit.start()
    with run_jobs():
        edit.succeed()

    statuses = [request.payload["edit"]["status"] for request in receiver.received]
    assert statuses == ["failed", "succeeded"]
    assert Delivery.objects.count() == 2


def test_a_studio_edit_is_never_told(webhook, receiver, make_edit, run_jobs):
    edit = make_edit(token=None)
    with run_jobs():
        edit.succeed()
    assert receiver.received == [] and not Delivery.objects.exists()


def test_only_the_webhooks_of_the_token_that_started_it(
    webhook, receiver, owner, make_edit, run_jobs
):
    other_token = ApiToken.issue(owner, name="another script")[0]
    edit = make_edit(other_token)
    with run_jobs():
        edit.cancel()
    assert receiver.received == []


def test_a_batch_is_told_once_when_its_last_edit_ends(
    webhook, receiver, owner, token, make_edit, run_jobs
):
    batch = EditGroup.objects.create(owner=owner, kind="batch", instruction="make it blue")
    first, second = make_edit(token, batch), make_edit(token, batch)
    with run_jobs():
        first.succeed()
    assert events(receiver) == ["edit.ended"]

    with run_jobs():
        second.fail("refused")
    with run_jobs():
        group_ended.send(EditGroup, group=batch)  # as when two edits end at the same moment

    assert events(receiver) == ["edit.ended", "edit.ended", "batch.ended"]
    group = receiver.received[2].payload["group"]
    assert (group["id"], group["kind"]) == (str(batch.pk), "batch")
    assert [(e["id"], e["status"]) for e in group["edits"]] == [
        (str(first.pk), "succeeded"),
        (str(second.pk), "failed"),
    ]
    assert Delivery.objects.filter(event="batch.ended").count() == 1


def test_a_comparison_is_told_to_the_token_that_started_it(
    webhook, receiver, owner, token, make_edit, run_jobs
):
    other_token = ApiToken.issue(owner, name="another script")[0]
    Webhook.objects.create(token=other_token, url=receiver.url, secret=SECRET, origin="")
    comparison = EditGroup.objects.create(owner=owner, kind="comparison", instruction="blue")
    edits = [make_edit(token, comparison), make_edit(token, comparison)]
    with run_jobs():
        for edit in edits:
            edit.succeed()

    assert events(receiver).count("comparison.ended") == 1  # the other token started none
    assert Delivery.objects.filter(event="comparison.ended", webhook=webhook).count() == 1


def test_a_studio_batch_is_never_told(webhook, receiver, owner, make_edit, run_jobs):
    batch = EditGroup.objects.create(owner=owner, kind="batch", instruction="make it blue")
    edit = make_edit(None, batch)
    with run_jobs():
        edit.succeed()
    assert receiver.received == []


def test_a_failure_to_queue_never_reaches_the_edit(
    webhook, receiver, token, make_edit, run_jobs, monkeypatch, caplog
):
    def broken(*args, **kwargs):
        raise RuntimeError("no")

    monkeypatch.setattr("webhooks.delivery.queue", broken)
    edit = make_edit(token)
    with run_jobs():
        assert edit.succeed()
    assert "webhooks for edit" in caplog.text
    edit.refresh_from_db()
    assert edit.status == Edit.Status.SUCCEEDED
