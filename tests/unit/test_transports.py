"""Which API a model is spoken to through, and which providers it is asked through in order."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from gateway.transports import default_transport, transport_of
from providers import secrets
from providers.models import ModelRoute, Provider
from providers.routing import first_transport, routes_for
from webapp.checks import check_transports


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gpt-image-1", "images"),
        ("gpt-image-1.5", "images"),
        ("GPT-Image-2", "images"),
        ("dall-e-3", "images"),
        ("doubao-seedream-4-0-250828", "images"),
        ("gpt-4o-image", "chat"),
        ("gemini-2.5-flash-image", "chat"),  # most relays serve it through chat completions
        ("nano-banana", "chat"),
        ("some-new-model", "chat"),
    ],
)
def test_defaults_by_model_name(model, expected):
    assert default_transport(model, "https://relay.example/v1") == expected


def test_googles_own_host_speaks_gemini():
    base = "https://generativelanguage.googleapis.com/v1beta"
    assert default_transport("gemini-2.5-flash-image", base) == "gemini"


def test_an_owners_choice_wins_over_the_name_and_a_per_model_one_over_both():
    assert transport_of("gpt-image-1", "https://x.example", "chat") == "chat"
    assert transport_of("gpt-image-1", "https://x.example", "auto") == "images"
    overrides = {"nano-banana": "gemini"}
    assert transport_of("nano-banana", "https://x.example", "chat", overrides) == "gemini"
    assert transport_of("nano-banana", "https://x.example", "bogus") == "chat"


def test_an_unknown_transport_name_is_named_by_the_check(settings):
    settings.GAITU_TRANSPORT = "auto"
    settings.GAITU_MODEL_TRANSPORTS = {"nano-banana": "gemni"}
    (warning,) = check_transports(None)
    assert warning.id == "gaitu.W011"
    assert "nano-banana" in warning.msg
    assert "gemni" in warning.msg


def test_the_demos_gemini_model_goes_through_geminis_own_api(db, settings):
    assert settings.GAITU_DEMO
    assert first_transport("gemini-2.5-flash-image") == "gemini"
    assert first_transport("gpt-image-1") == "images"
    assert first_transport("gpt-4o-image") == "chat"


def provider(name: str, models: list[str], **fields) -> Provider:
    made = Provider(name=name, base_url=f"https://{name}.example", model_names=models, **fields)
    made.set_key(f"sk-{name}-not-real")
    made.save()
    return made


def names(model: str) -> list[str]:
    return [route.name for route in routes_for(model)]


def test_by_default_the_environment_then_the_providers_serving_the_model(db, settings):
    settings.GAITU_DEMO = False
    settings.GAITU_API_BASE = "https://env.example"
    settings.GAITU_API_KEY = "sk-env"
    provider("yunwu", ["gpt-image-1"], position=1)
    provider("tuzi", ["gpt-image-1", "nano-banana"], position=0)
    provider("off", ["gpt-image-1"], enabled=False)
    assert names("gpt-image-1") == ["env.example", "tuzi", "yunwu"]
    assert names("gpt-4o-image") == ["env.example"]


def test_the_demo_steps_aside_for_a_provider_that_serves_the_model(db, settings):
    assert settings.GAITU_DEMO
    provider("yunwu", ["gpt-image-1"])
    assert names("gpt-image-1") == ["yunwu"]
    assert names("gpt-4o-image") == ["demo"]


def test_the_owners_order_for_a_model_is_followed(db, settings):
    settings.GAITU_DEMO = False
    settings.GAITU_API_BASE = "https://env.example"
    settings.GAITU_API_KEY = "sk-env"
    yunwu, tuzi = provider("yunwu", []), provider("tuzi", [])
    ModelRoute.objects.create(model="nano-banana", provider=tuzi, position=0)
    ModelRoute.objects.create(model="nano-banana", provider=None, position=1)
    ModelRoute.objects.create(model="nano-banana", provider=yunwu, position=2)
    assert names("nano-banana") == ["tuzi", "env.example", "yunwu"]
    route = routes_for("nano-banana")[0]
    # Each provider's own key and place; the deployment's extra fields stay its own.
    assert (route.config.api_key, route.config.base_url) == ("sk-tuzi-not-real", tuzi.base_url)
    assert route.config.extra_body == {}
    assert route.key == str(tuzi.pk)


def test_a_provider_whose_key_cannot_be_read_is_left_out(db, settings):
    provider("yunwu", ["gpt-image-1"])
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789"  # the old one lost
    assert names("gpt-image-1") == ["demo"]


def test_keys_are_encrypted_and_rotated_to_the_first_key(db, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.GAITU_PROVIDER_KEYS = [old]
    stored = provider("yunwu", ["gpt-image-1"])
    assert "sk-yunwu-not-real" not in stored.encrypted_key
    settings.GAITU_PROVIDER_KEYS = [new, old]
    assert Provider.objects.get().key() == "sk-yunwu-not-real"  # the old key still decrypts
    rotated = secrets.rotated(stored.encrypted_key)
    settings.GAITU_PROVIDER_KEYS = [new]
    assert secrets.decrypt(rotated) == "sk-yunwu-not-real"
    with pytest.raises(secrets.KeyUnreadable):
        secrets.decrypt(stored.encrypted_key)


def test_keys_from_before_provider_keys_were_set_still_decrypt(db, settings):
    """Setting GAITU_PROVIDER_KEYS on a site with keys stored strands none of them: the key
    derived from SECRET_KEY still decrypts, until rotate_provider_keys moves them over."""
    settings.GAITU_PROVIDER_KEYS = []
    token = secrets.encrypt("sk-yunwu")
    settings.GAITU_PROVIDER_KEYS = [Fernet.generate_key().decode()]
    assert secrets.decrypt(token) == "sk-yunwu"
    assert secrets.decrypt(secrets.rotated(token)) == "sk-yunwu"


def test_without_keys_of_its_own_the_key_is_derived_from_secret_key(db, settings):
    settings.GAITU_PROVIDER_KEYS = []
    settings.SECRET_KEY = "first-secret-key-for-this-test-only-0123456789"
    token = secrets.encrypt("sk-yunwu")
    settings.SECRET_KEY = "second-secret-key-for-this-test-only-0123456789"
    settings.SECRET_KEY_FALLBACKS = ["first-secret-key-for-this-test-only-0123456789"]
    assert secrets.decrypt(token) == "sk-yunwu"  # a changed SECRET_KEY keeps its fallbacks
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(secrets.KeyUnreadable):
        secrets.decrypt(token)


def test_every_model_change_has_its_migration(db):
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_telling_a_cards_api_starts_no_demo_gateway_and_reads_no_key(db, settings, monkeypatch):
    """first_transport runs as an edit is submitted, in a web process: from names alone."""
    from gateway.demo import server as demo

    def never(**options):
        raise AssertionError("the demo gateway was started")

    monkeypatch.setattr(demo, "ensure_running", never)
    monkeypatch.setattr(Provider, "key", lambda self: never())
    assert first_transport("gpt-image-1") == "images"
    provider("yunwu", ["nano-banana"], transport="gemini")
    assert first_transport("nano-banana") == "gemini"
