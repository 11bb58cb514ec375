"""The size the images API is asked for: gpt-image-1 takes three, other models what is asked."""

import pytest

from gateway.images.client import size_for


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ("1:1", "1024x1024"),
        ("3:2", "1536x1024"),
        ("16:9", "1536x1024"),  # 1792x1024 would be refused
        ("9:16", "1024x1536"),
        ("2:3", "1024x1536"),
        ("1100x1000", "1024x1024"),  # near enough square
        ("2048x1152", "1536x1024"),
    ],
)
def test_gpt_image_1_gets_the_nearest_of_its_three_sizes(size, expected):
    assert size_for("gpt-image-1", size) == expected
    assert size_for("gpt-image-1.5", size) == expected


@pytest.mark.parametrize(
    ("model", "size", "expected"),
    [
        ("dall-e-3", "16:9", "1792x1024"),
        ("doubao-seedream-4-0-250828", "2048x2048", "2048x2048"),
        ("gpt-image-2", "2048x1152", "2048x1152"),
    ],
)
def test_other_models_get_the_size_as_asked(model, size, expected):
    assert size_for(model, size) == expected
