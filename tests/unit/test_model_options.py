"""Which options each model is offered and how its gateways take them; the owner's overrides."""

import pytest

from editor.model_options import UNKNOWN_STYLE, misconfigured, offered_options, style_for
from gateway.options import ModelStyle

RESELLER = ModelStyle(size="prompt", n="prompt")


@pytest.fixture(autouse=True)
def no_overrides(settings):
    settings.GAITU_MODEL_OPTIONS = {}


@pytest.mark.parametrize(
    ("model", "style"),
    [
        ("gpt-4o-image", RESELLER),
        ("gpt-4o-image-vip", RESELLER),
        ("gpt-image-1-vip", RESELLER),
        ("gpt-4o-all", RESELLER),
        ("sora_image", RESELLER),
        ("sora-image", RESELLER),
        ("flux-kontext-pro", ModelStyle(size="prompt", n="parallel")),
        ("flux.1-kontext-max", ModelStyle(size="prompt", n="parallel")),
        ("gpt-image-1", ModelStyle(size="size", n="n", quality=True)),
        ("gpt-image-1-mini", ModelStyle(size="size", n="n", quality=True)),
        ("dall-e-3", ModelStyle(size="size", n="parallel")),
        ("doubao-seedream-4-0-250828", ModelStyle(size="size", n="parallel")),
        ("seedream-3.0", ModelStyle(size="size", n="parallel")),
        ("gemini-2.5-flash-image", ModelStyle(size="aspect_ratio", n="parallel")),
        ("gemini-2.5-flash-image-preview", ModelStyle(size="aspect_ratio", n="parallel")),
        ("google/gemini-2.5-flash-image", ModelStyle(size="aspect_ratio", n="parallel")),
        ("openai/gpt-image-1", ModelStyle(size="size", n="n", quality=True)),
        ("nano-banana", ModelStyle(size="aspect_ratio", n="parallel")),
        ("fal-ai/nano-banana-pro", ModelStyle(size="aspect_ratio", n="parallel")),
        ("GPT-4o-Image", RESELLER),  # names are matched whatever their case
        ("some-new-model", UNKNOWN_STYLE),
    ],
)
def test_the_default_style_by_name(model, style):
    assert style_for(model) == style


def test_an_unknown_model_gets_the_size_in_its_prompt_one_picture_a_request():
    assert ModelStyle(size="prompt", n="parallel", quality=False) == UNKNOWN_STYLE


def test_the_owner_describes_a_model_of_their_own(settings):
    settings.GAITU_MODEL_OPTIONS = {"my-relay-image": {"size": "size", "n": "n", "quality": True}}
    assert style_for("my-relay-image") == ModelStyle(size="size", n="n", quality=True)
    assert style_for("my-relay-image-2") == UNKNOWN_STYLE  # a name without "*" is exact


def test_the_owner_overrides_a_default_by_prefix(settings):
    settings.GAITU_MODEL_OPTIONS = {"gpt-4o-image*": {"size": "none"}}
    assert style_for("gpt-4o-image-vip") == ModelStyle(size="none", n="parallel")
    assert style_for("gpt-image-1") == ModelStyle(size="size", n="n", quality=True)


@pytest.mark.parametrize(
    "wrong",
    [
        {"size": "pixels"},
        {"n": "many"},
        {"quality": "yes"},
        {"colour": "blue"},
        "size",
        ["size"],
    ],
    ids=["size-way", "n-way", "quality-not-bool", "unknown-field", "a-string", "a-list"],
)
def test_an_invalid_entry_is_ignored_and_named(settings, wrong):
    settings.GAITU_MODEL_OPTIONS = {"gpt-image-1": wrong, "mine": {"n": "n"}}
    assert style_for("gpt-image-1") == ModelStyle(size="size", n="n", quality=True)
    assert style_for("mine") == ModelStyle(n="n")  # the valid entry next to it still counts
    (problem,) = misconfigured()
    assert problem.startswith("'gpt-image-1': ")


def test_nothing_is_misconfigured_by_default():
    assert misconfigured() == []


@pytest.mark.parametrize(
    ("model", "offered"),
    [
        ("gpt-image-1", {"size": True, "n": True, "quality": True}),
        ("gpt-4o-image", {"size": True, "n": True, "quality": False}),
        ("dall-e-3", {"size": True, "n": True, "quality": False}),
    ],
)
def test_what_is_offered(model, offered):
    assert offered_options(model) == offered


def test_a_model_without_sizes_is_offered_none(settings):
    settings.GAITU_MODEL_OPTIONS = {"plain": {"size": "none"}}
    assert offered_options("plain")["size"] is False
