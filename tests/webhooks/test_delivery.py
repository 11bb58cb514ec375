"""Sending deliveries: the signature a receiver checks, the SSRF guard, retries and giving up."""

import json
from datetime import timedelta

from django.utils import timezone

from webhooks import delivery, tasks
from webhooks.models import Delivery, Webhook
from webhooks.tasks import deliver_webhook

from .conftest import SECRET
from .receiver import verify


def ended(make_edit, token, run_jobs):
    edit = make_edit(token)
    with run_jobs():
        edit.succeed()
    return edit


def test_a_receiver_checking_the_signature_takes_the_delivery(
    webhook, receiver, token, make_edit, run_jobs
):
    edit = ended(make_edit, token, run_jobs)

    sent = Delivery.objects.get()
    assert sent.status == Delivery.Status.DELIVERED, sent.last_error
    assert (sent.attempts, sent.last_status_code, sent.last_error) == (1, 200, "")
    [request] = receiver.received
    assert request.verified  # the HMAC of "<t>.<body>" with the secret, and a recent t
    assert request.headers["Gaitu-Event"] == "edit.ended"
    assert request.headers["Gaitu-Delivery"] == str(sent.pk)
    assert request.headers["Content-Type"] == "application/json"
    timestamp, v1 = request.headers["Gaitu-Signature"].split(",")
    assert timestamp.startswith("t=") and v1.startswith("v1=") and len(v1) == 3 + 64
    assert request.payload == sent.payload
    assert request.payload["event"] == "edit.ended"
    assert request.payload["edit"] == {
        "id": str(edit.pk),
        "status": "succeeded",
        "model": "gpt-image-1",
        "error_code": None,
        "results": 0,
        "group": None,
        "url": f"https://gaitu.example/api/v1/edits/{edit.pk}",
    }


def test_the_check_refuses_another_secret_an_old_timestamp_and_another_body():
    body = b'{"event":"edit.ended"}'
    header = delivery.signature(SECRET, 1_700_000_000, body)
    assert verify(SECRET, header, body, now=1_700_000_010)
    assert not verify("whsec_another", header, body, now=1_700_000_010)
    assert not verify(SECRET, header, body, now=1_700_000_000 + 3600)
    assert not verify(SECRET, header, body + b" ", now=1_700_000_010)


def test_a_receiver_with_another_secret_refuses_it_and_it_is_tried_again(
    webhook, receiver, token, make_edit, run_jobs
):
    receiver.secret = "whsec_not-the-one"
    ended(make_edit, token, run_jobs)

    sent = Delivery.objects.get()
    assert not receiver.received[0].verified
    assert (sent.status, sent.last_status_code, sent.last_error) == ("pending", 401, "HTTP 401")


def test_a_loopback_receiver_without_the_allow_list_is_refused(
    webhook, receiver, token, make_edit, run_jobs, settings
):
    settings.GAITU_FETCH_ALLOW_HOSTS = []
    ended(make_edit, token, run_jobs)

    sent = Delivery.objects.get()
    assert receiver.received == []  # never connected
    assert sent.status == Delivery.Status.FAILED  # the same rule would refuse every retry
    assert sent.attempts == 1 and sent.next_attempt_at is None
    assert sent.last_status_code is None
    assert sent.last_error == "address 127.0.0.1 is loopback"


def test_a_name_resolving_to_a_private_address_is_refused_at_delivery(
    token, make_edit, run_jobs, settings, monkeypatch
):
    # Registered while it was public, say; it is the address at delivery time that counts.
    settings.GAITU_FETCH_ALLOW_HOSTS = []
    monkeypatch.setattr("gateway.fetch.resolve_host", lambda host, port: ["10.1.2.3"])
    Webhook.objects.create(token=token, url="https://hooks.example/x", secret=SECRET, origin="")
    ended(make_edit, token, run_jobs)

    sent = Delivery.objects.get()
    assert (sent.status, sent.last_error) == ("failed", "address 10.1.2.3 is private")


def test_a_failed_answer_is_tried_again_after_the_pause(
    webhook, receiver, token, make_edit, run_jobs
):
    receiver.statuses = [500, 200]
    before = timezone.now()
    ended(make_edit, token, run_jobs)

    sent = Delivery.objects.get()
    assert (sent.status, sent.attempts, sent.last_status_code) == ("pending", 1, 500)
    assert sent.last_error == "HTTP 500"
    assert sent.next_attempt_at >= before + delivery.BACKOFF[0]
    assert delivery.attempt(str(sent.pk)) is None  # not due yet: nothing is sent
    assert len(receiver.received) == 1

    # Time moves on past the pause: the job sends it again.
    Delivery.objects.filter(pk=sent.pk).update(next_attempt_at=timezone.now())
    with run_jobs():
        deliver_webhook.enqueue(str(sent.pk))

    sent.refresh_from_db()
    assert (sent.status, sent.attempts, sent.last_status_code) == ("delivered", 2, 200)
    assert sent.delivered_at is not None and sent.next_attempt_at is None
    first, second = receiver.received
    assert first.headers["Gaitu-Delivery"] == second.headers["Gaitu-Delivery"] == str(sent.pk)
    assert first.body == second.body and second.verified


def test_it_gives_up_after_the_last_pause(webhook, receiver, token, make_edit, run_jobs):
    receiver.statuses = [503] * 20
    ended(make_edit, token, run_jobs)
    sent = Delivery.objects.get()
    pauses = []
    while sent.status == Delivery.Status.PENDING:
        pauses.append(sent.next_attempt_at - sent.last_attempt_at)
        Delivery.objects.filter(pk=sent.pk).update(next_attempt_at=timezone.now())
        with run_jobs():
            delivery.attempt(str(sent.pk))
        sent.refresh_from_db()

    assert sent.status == Delivery.Status.FAILED
    assert sent.attempts == len(delivery.BACKOFF) + 1 == len(receiver.received)
    assert pauses == list(delivery.BACKOFF)
    assert (sent.last_status_code, sent.last_error, sent.next_attempt_at) == (503, "HTTP 503", None)


def test_a_redirect_is_not_followed(webhook, receiver, token, make_edit, run_jobs):
    receiver.redirect_to = "http://127.0.0.1:9/elsewhere"
    ended(make_edit, token, run_jobs)
    sent = Delivery.objects.get()
    assert (sent.status, sent.last_status_code, sent.last_error) == ("pending", 302, "HTTP 302")
    assert len(receiver.received) == 1


def test_no_answer_is_recorded_and_tried_again(token, make_edit, run_jobs, settings):
    settings.GAITU_FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    Webhook.objects.create(token=token, url="http://127.0.0.1:9/closed", secret=SECRET, origin="")
    ended(make_edit, token, run_jobs)
    sent = Delivery.objects.get()
    assert sent.status == Delivery.Status.PENDING and sent.last_status_code is None
    assert sent.last_error.startswith("connection failed")
    assert SECRET not in sent.last_error


def test_a_delivery_being_sent_is_not_sent_twice(webhook, receiver, token, make_edit):
    edit = make_edit(token)
    later = timezone.now() + timedelta(hours=1)
    sent = delivery.queue(webhook, "edit.ended", f"edit:{edit.pk}:x", {"event": "edit.ended"})
    assert sent is not None
    # Another attempt holds it (the claim moved its time on), so this one does nothing.
    Delivery.objects.filter(pk=sent.pk).update(next_attempt_at=later)
    assert delivery.attempt(str(sent.pk)) is None
    assert receiver.received == []


def test_the_sweep_queues_again_a_delivery_whose_job_was_lost(
    webhook, receiver, token, make_edit, run_jobs
):
    edit = make_edit(token)
    lost = delivery.queue(webhook, "edit.ended", f"edit:{edit.pk}:x", {"event": "x"})
    assert lost is not None  # made, but no job was queued for it: as if the job were lost
    Delivery.objects.filter(pk=lost.pk).update(
        next_attempt_at=timezone.now() - timedelta(minutes=10)
    )
    assert tasks.enqueue_overdue(now=timezone.now() - timedelta(minutes=20)) == 0  # not yet
    assert receiver.received == []

    with run_jobs():
        assert tasks.enqueue_overdue() == 1

    lost.refresh_from_db()
    assert lost.status == Delivery.Status.DELIVERED
    assert json.loads(receiver.received[0].body) == {"event": "x"}
