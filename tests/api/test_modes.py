"""POST /api/v1/edits in each of its modes: a picture from words alone, options, a picture from
a link, and choosing which of several results stands for the edit. Through the API client,
with the jobs run in this process against the demo gateway."""

import pytest
from django.urls import reverse

from accounts.models import ApiToken
from editor.models import Edit
from tests.support.factories import image_bytes, upload
from tests.support.fetch_servers import ok
from tests.support.fetch_servers import server as server


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def create(client, token, run_jobs, **fields):
    data = {"instruction": "a red square", **fields}
    with run_jobs():
        return client.post(reverse("api_edits"), data, **bearer(token))


def detail(client, token, response) -> dict:
    assert response.status_code == 202, response.content
    return client.get(response.json()["url"], **bearer(token)).json()


def test_words_alone_make_a_picture(client, owner_token, run_jobs):
    made = detail(client, owner_token, create(client, owner_token, run_jobs))
    assert (made["status"], made["kind"]) == ("succeeded", "generation")
    assert made["sources"] == []
    assert len(made["results"]) == 1 and made["results"][0]["chosen"] is True
    assert (made["chosen"], made["group"]) == (0, None)
    assert made["options"] == {"size": "", "n": 1, "quality": ""}


def test_an_edit_of_a_picture_says_so(client, owner_token, run_jobs):
    made = detail(client, owner_token, create(client, owner_token, run_jobs, image=upload()))
    assert (made["kind"], len(made["sources"])) == ("edit", 1)


@pytest.mark.parametrize(
    ("fields", "kept"),
    [
        (
            {"size": "16:9", "n": "2", "quality": "high"},
            {"size": "16:9", "n": 2, "quality": "high"},
        ),
        ({"size": "1024x768"}, {"size": "1024x768", "n": 1, "quality": ""}),
        ({"size": "", "quality": ""}, {"size": "", "n": 1, "quality": ""}),
    ],
)
def test_options_are_kept_and_shown(client, owner_token, run_jobs, fields, kept):
    made = detail(client, owner_token, create(client, owner_token, run_jobs, **fields))
    assert made["options"] == kept
    assert Edit.objects.get().options.get("size", "") == kept["size"]  # only what is asked
    assert len(made["results"]) == kept["n"]


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"size": "5:4"}, "invalid_choice", "size"),
        ({"size": "100x100"}, "min_value", "size"),
        ({"size": "4097x1024"}, "max_value", "size"),
        ({"n": "5"}, "max_value", "n"),
        ({"n": "0"}, "min_value", "n"),
        ({"quality": "ultra"}, "invalid_choice", "quality"),
        ({"image_url": "not a link"}, "invalid", "image_url"),
    ],
)
def test_options_that_are_not_offered_are_refused(
    client, owner_token, run_jobs, fields, code, field
):
    response = create(client, owner_token, run_jobs, **fields)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["field"] == field
    assert not Edit.objects.exists()


def test_a_picture_from_a_link(client, owner_token, run_jobs, server, settings):
    settings.GAITU_FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    server.routes["/cat.jpg"] = ok(image_bytes((40, 30)), "image/jpeg")
    response = create(
        client, owner_token, run_jobs, image_url=server.url("/cat.jpg"), instruction="invert"
    )
    made = detail(client, owner_token, response)
    assert (made["status"], made["kind"], len(made["sources"])) == ("succeeded", "edit", 1)
    assert Edit.objects.get().sources.get().filename == "cat.jpg"
    assert server.hits["/cat.jpg"] == 1


def test_a_link_that_gives_no_picture_names_the_field(
    client, owner_token, run_jobs, server, settings
):
    settings.GAITU_FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    response = create(client, owner_token, run_jobs, image_url=server.url("/gone.jpg"))
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "image_url"
    assert not Edit.objects.exists()


def test_the_edit_knows_the_token_it_came_through(client, owner, owner_token, run_jobs):
    other, raw = ApiToken.issue(owner, name="second")
    create(client, raw, run_jobs)
    assert Edit.objects.get().api_token == other


def test_choosing_which_result_stands_for_the_edit(client, owner_token, run_jobs):
    made = detail(client, owner_token, create(client, owner_token, run_jobs, n="3"))
    assert [r["position"] for r in made["results"]] == [0, 1, 2]
    assert [r["chosen"] for r in made["results"]] == [True, False, False]
    choose = reverse("api_edit_choose", args=[made["id"]])

    chosen = client.post(
        choose, {"position": 2}, content_type="application/json", **bearer(owner_token)
    )
    assert chosen.status_code == 200
    assert chosen.json()["chosen"] == 2
    assert [r["chosen"] for r in chosen.json()["results"]] == [False, False, True]
    assert Edit.objects.get().chosen_result.position == 2
    assert (
        client.get(reverse("api_edit", args=[made["id"]]), **bearer(owner_token)).json()["chosen"]
        == 2
    )


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"position": 7}, 409, "no_such_result", "position"),
        ({"position": -1}, 400, "invalid", "position"),
        ({"position": "first"}, 400, "invalid", "position"),
        ({}, 400, "invalid", "position"),
    ],
)
def test_choosing_a_result_that_is_not_there(
    client, owner_token, run_jobs, body, status, code, field
):
    made = detail(client, owner_token, create(client, owner_token, run_jobs))
    choose = reverse("api_edit_choose", args=[made["id"]])
    response = client.post(choose, body, content_type="application/json", **bearer(owner_token))
    assert response.status_code == status
    assert (response.json()["error"]["code"], response.json()["error"].get("field")) == (
        code,
        field,
    )
    assert Edit.objects.get().chosen == 0


def test_choosing_in_another_persons_edit_is_not_found(client, owner_token, stranger, run_jobs):
    made = detail(client, owner_token, create(client, owner_token, run_jobs, n="2"))
    choose = reverse("api_edit_choose", args=[made["id"]])
    stranger_token = ApiToken.issue(stranger)[1]
    response = client.post(
        choose, {"position": 1}, content_type="application/json", **bearer(stranger_token)
    )
    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")
    # Whatever the body: what is not theirs is not there, before anything else is said.
    for body in ("", "{not json", '{"position": -1}'):
        answer = client.post(
            choose, body, content_type="application/json", **bearer(stranger_token)
        )
        assert answer.status_code == 404
    assert Edit.objects.get().chosen == 0


def test_a_choice_that_is_not_json(client, owner_token, run_jobs):
    made = detail(client, owner_token, create(client, owner_token, run_jobs))
    choose = reverse("api_edit_choose", args=[made["id"]])
    response = client.post(
        choose, "{position", content_type="application/json", **bearer(owner_token)
    )
    assert (response.status_code, response.json()["error"]["code"]) == (400, "bad_request")
