"""The whole way: a script registers a webhook, starts an edit with the same token, and hears
when it ends, signed with the secret it was given."""

import json

from django.urls import reverse

from tests.support.factories import upload

from .receiver import verify


def test_a_script_hears_its_edit_end(client, owner_token, receiver, run_jobs):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {owner_token}"}
    made = client.post(
        "/api/v1/webhooks", json.dumps({"url": receiver.url}), "application/json", **auth
    )
    assert made.status_code == 201
    receiver.secret = made.json()["secret"]

    with run_jobs():
        started = client.post(
            reverse("api_edits"), {"instruction": "invert the colours", "image": upload()}, **auth
        )
    assert started.status_code == 202

    [heard] = receiver.received
    assert heard.verified
    assert verify(made.json()["secret"], heard.headers["Gaitu-Signature"], heard.body)
    edit = heard.payload["edit"]
    assert (edit["id"], edit["status"], edit["results"]) == (started.json()["id"], "succeeded", 1)
    assert edit["url"] == started.json()["url"]  # the API's own address of the edit
    assert client.get(edit["url"], **auth).json()["status"] == "succeeded"

    [listed] = client.get("/api/v1/webhooks", **auth).json()
    assert listed["last_delivery"]["status"] == "delivered"
    assert listed["last_delivery"]["status_code"] == 200
