"""The owner's providers list and form: what validates, the key stored encrypted and never
drawn back, the environment's gateway shown read-only, moving and deleting, and "Ask the
provider" against a gateway on a real local socket and against a port nobody listens on."""

import pytest
from django.urls import reverse

from providers.forms import ProviderForm, model_names
from providers.models import ModelRoute, Provider
from tests.support.servers import free_port

from .gateways import ListingGateway

pytestmark = pytest.mark.django_db

ADD = {
    "name": "Cloud",
    "base_url": "https://cloud.example.com/v1",
    "key": "sk-typed-42",
    "transport": "auto",
    "gemini_key_in": "header",
    "models": "gpt-image-1, nano-banana\nseedream-4\n\nnano-banana",
    "enabled": "on",
}


def form_errors(data: dict, instance: Provider | None = None) -> dict:
    form = ProviderForm(data, instance=instance)
    assert not form.is_valid()
    return form.errors


def test_the_models_typed_are_split_on_commas_and_lines_each_once():
    assert model_names(" a, b\nc\r\n, a ,,\n") == ["a", "b", "c"]
    form = ProviderForm(ADD)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["model_names"] == ["gpt-image-1", "nano-banana", "seedream-4"]


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("ftp://cloud.example.com/v1", "starts with http:// or https://"),
        ("cloud.example.com/v1", "starts with http:// or https://"),
        ("javascript:alert(1)", "starts with http:// or https://"),
        ("https://user:sk-x@cloud.example.com/v1", "not in the link"),
        ("https://cloud.example.com/v1?key=sk-x", "without anything after ?"),
    ],
)
def test_a_base_url_that_is_not_a_plain_web_link_is_refused_plainly(url, said):
    assert said in form_errors({**ADD, "base_url": url})["base_url"][0]


def test_a_name_is_needed_and_taken_once(make_provider):
    assert form_errors({**ADD, "name": "   "})["name"]
    make_provider("Cloud")
    assert "already a provider named" in form_errors({**ADD, "name": "cloud"})["name"][0]


def test_a_model_name_with_a_space_is_refused():
    assert "no spaces" in form_errors({**ADD, "models": "gpt image"})["models"][0]


def test_a_new_provider_needs_a_key():
    assert form_errors({**ADD, "key": ""})["key"]


def test_only_the_owner_sees_the_providers_pages(client, owner, make_provider):
    provider = make_provider()
    client.force_login(owner)  # signed in, not the site's owner (its superuser)
    for name, args in [
        ("providers", []),
        ("provider_add", []),
        ("provider_edit", [provider.pk]),
        ("provider_delete", [provider.pk]),
        ("model_order", []),
        ("provider_health", []),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 403, name
    assert client.post(reverse("provider_test", args=[provider.pk])).status_code == 403
    assert client.post(reverse("provider_ask_models"), {"base_url": "http://x"}).status_code == 403
    client.logout()
    assert client.get(reverse("providers")).status_code == 302  # to the login page


def test_the_key_is_stored_encrypted_and_never_drawn_back(boss):
    response = boss.post(reverse("provider_add"), ADD)
    assert response.status_code == 302
    provider = Provider.objects.get()
    assert provider.encrypted_key and "sk-typed-42" not in provider.encrypted_key
    assert provider.key() == "sk-typed-42"
    assert provider.model_names == ["gpt-image-1", "nano-banana", "seedream-4"]

    page = boss.get(reverse("provider_edit", args=[provider.pk])).text
    assert "sk-typed-42" not in page
    assert provider.encrypted_key not in page
    assert "A key is stored; type a new one to replace it." in page
    assert 'type="password"' in page


def test_editing_without_a_key_keeps_the_stored_one_and_a_new_one_replaces_it(boss, make_provider):
    provider = make_provider("Cloud", key="sk-old")
    changed = {**ADD, "key": "", "name": "Cloud two", "models": "m1"}
    assert boss.post(reverse("provider_edit", args=[provider.pk]), changed).status_code == 302
    provider.refresh_from_db()
    assert (provider.name, provider.model_names, provider.key()) == ("Cloud two", ["m1"], "sk-old")
    boss.post(reverse("provider_edit", args=[provider.pk]), {**changed, "key": "sk-new"})
    provider.refresh_from_db()
    assert provider.key() == "sk-new"


def test_a_refused_form_does_not_send_the_typed_key_back(boss):
    response = boss.post(reverse("provider_add"), {**ADD, "base_url": "ftp://x.example"})
    assert response.status_code == 400
    assert "sk-typed-42" not in response.text
    assert "http:// or https://" in response.text


def test_the_list_shows_the_environment_first_read_only_then_the_providers(
    boss, make_provider, settings
):
    settings.GAITU_DEMO = False
    settings.GAITU_API_BASE = "https://relay.example.org/v1"
    settings.GAITU_API_KEY = "sk-environment-secret"
    settings.GAITU_TRANSPORT = "auto"
    make_provider("Cloud", model_names=["m1", "m2"])
    make_provider("Backup", enabled=False, transport="images")
    page = boss.get(reverse("providers")).text
    environment = page.index("relay.example.org")
    assert environment < page.index("Cloud") < page.index("Backup")
    assert "set in the environment" in page
    assert "sk-environment-secret" not in page
    row = page[environment : page.index("Cloud")]
    assert "By model name" in row and "Edit" not in row and "Delete" not in row
    assert "m1, m2" in page and "Images API" in page

    settings.GAITU_TRANSPORT = "gemini"
    assert "Gemini API" in boss.get(reverse("providers")).text.split("Cloud")[0]


def test_providers_move_up_and_down(boss, make_provider):
    first, _, third = (make_provider(name) for name in ("A", "B", "C"))
    boss.post(reverse("provider_move", args=[third.pk]), {"direction": "up"})
    assert [p.name for p in Provider.objects.all()] == ["A", "C", "B"]
    boss.post(reverse("provider_move", args=[first.pk]), {"direction": "down"})
    assert [p.name for p in Provider.objects.all()] == ["C", "A", "B"]
    boss.post(reverse("provider_move", args=[third.pk]), {"direction": "up"})  # already first
    assert [p.name for p in Provider.objects.all()] == ["C", "A", "B"]
    added = boss.post(reverse("provider_add"), {**ADD, "name": "D"})
    assert added.status_code == 302
    assert [p.name for p in Provider.objects.all()] == ["C", "A", "B", "D"]


def test_delete_asks_first_on_a_page_of_its_own(boss, make_provider):
    provider = make_provider("Cloud")
    other = make_provider("Other")
    ModelRoute.objects.create(model="nano-banana", provider=provider, position=0)
    ModelRoute.objects.create(model="gpt-image-1", provider=other, position=0)
    page = boss.get(reverse("provider_delete", args=[provider.pk]))
    assert page.status_code == 200 and "Delete “Cloud”?" in page.text
    assert "It leaves the order of: nano-banana." in page.text
    assert Provider.objects.count() == 2
    assert boss.post(reverse("provider_delete", args=[provider.pk])).status_code == 302
    assert list(Provider.objects.values_list("name", flat=True)) == ["Other"]
    assert list(ModelRoute.objects.values_list("model", flat=True)) == ["gpt-image-1"]


# --- Ask the provider -----------------------------------------------------------------------

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_asking_the_provider_offers_its_models_as_boxes_with_the_typed_ones_ticked(boss):
    with ListingGateway(listed=["gpt-image-1", "dall-e-3", "nano-banana"]) as gateway:
        form = {**ADD, "base_url": f"{gateway.url}/v1", "models": "nano-banana\nmy-own"}
        response = boss.post(reverse("provider_ask_models"), form, **HTMX)
    assert response.status_code == 200
    # The key typed went to the provider in the header, from the form's body, not a link.
    assert gateway.listings[0]["path"] == "/v1/models"
    assert gateway.listings[0]["headers"]["Authorization"] == "Bearer sk-typed-42"
    part = response.text
    assert part.lstrip().startswith('<div id="provider-models"')
    assert "sk-typed-42" not in part
    assert "It lists 3 models: tick the ones to use." in part
    for name in ("dall-e-3", "gpt-image-1", "nano-banana"):
        assert f'value="{name}"' in part
    ticked = [line for line in part.splitlines() if "checked" in line]
    assert len(ticked) == 1 and 'value="nano-banana"' in ticked[0]
    assert ">\nmy-own</textarea>" in part  # what the provider did not list stays typed

    # Ticking one more and saving: the ticked and the typed are the provider's models.
    saved = boss.post(
        reverse("provider_add"),
        {
            **form,
            "listed": "dall-e-3\ngpt-image-1\nnano-banana",
            "picked": ["gpt-image-1", "nano-banana"],
            "models": "my-own",
        },
    )
    assert saved.status_code == 302
    assert Provider.objects.get().model_names == ["gpt-image-1", "nano-banana", "my-own"]


def test_asking_on_a_change_uses_the_stored_key_when_none_is_typed(boss, make_provider):
    provider = make_provider("Cloud", key="sk-stored-7", model_names=["m1"])
    with ListingGateway(listed=["m1", "m2"]) as gateway:
        form = {**ADD, "key": "", "base_url": gateway.url, "models": "m1"}
        url = reverse("provider_ask_models_stored", args=[provider.pk])
        response = boss.post(url, form, **HTMX)
    assert gateway.listings[0]["headers"]["Authorization"] == "Bearer sk-stored-7"
    assert "sk-stored-7" not in response.text
    assert "It lists 2 models" in response.text


def test_a_provider_that_lists_nothing_or_cannot_be_reached_is_said_plainly(boss):
    with ListingGateway(listed=[]) as gateway:
        empty = boss.post(reverse("provider_ask_models"), {**ADD, "base_url": gateway.url}, **HTMX)
    with ListingGateway(listed=["x"], list_status=401) as gateway:
        refused = boss.post(
            reverse("provider_ask_models"), {**ADD, "base_url": gateway.url}, **HTMX
        )
    nobody = f"http://127.0.0.1:{free_port()}/v1"
    unreachable = boss.post(reverse("provider_ask_models"), {**ADD, "base_url": nobody}, **HTMX)
    for response in (empty, refused, unreachable):
        assert response.status_code == 200
        assert "No models came back from" in response.text
        assert "Type their names instead." in response.text
        assert 'role="status"' in response.text
    assert nobody in unreachable.text


def test_asking_needs_a_web_link_and_a_key(boss):
    bad_link = boss.post(reverse("provider_ask_models"), {**ADD, "base_url": "ftp://x"}, **HTMX)
    assert "Give the base URL first" in bad_link.text
    no_key = boss.post(reverse("provider_ask_models"), {**ADD, "key": ""}, **HTMX)
    assert "Type the API key first" in no_key.text


def test_asking_without_scripts_draws_the_whole_form_again(boss):
    with ListingGateway(listed=["m1", "m2"]) as gateway:
        response = boss.post(reverse("provider_ask_models"), {**ADD, "base_url": gateway.url})
    assert response.status_code == 200
    assert "<html" in response.text and 'name="name"' in response.text
    assert 'value="m2"' in response.text
    assert "sk-typed-42" not in response.text
