"""The seven ready-made instructions the studio offered before the owner could edit them, in
English and in the Chinese of the catalogue (locale/zh_Hans) at the time."""

from django.db import migrations

SEEDED = [
    (
        "Remove background",
        "Remove the background, keep the subject sharp",
        "去除背景",
        "去除背景，保持主体清晰",
    ),
    (
        "Blue sky",
        "Replace the background with a blue sky and white clouds",
        "蓝天背景",
        "把背景换成蓝天白云",
    ),
    ("Watercolour", "Make it look like a watercolour painting", "水彩风", "改成水彩画风格"),
    ("Anime style", "Turn it into an anime-style illustration", "动漫风", "改成动漫风格的插画"),
    (
        "Restore old photo",
        "Restore this old photo: fix scratches, sharpen, add natural colour",
        "修复老照片",
        "修复这张老照片：去除划痕、提高清晰度、上自然的颜色",
    ),
    (
        "Product on white",
        "Product photo on a clean white background",
        "白底商品图",
        "商品图，放在干净的白色背景上",
    ),
    ("Black and white", "Black and white, high contrast", "黑白", "黑白，高对比度"),
]


def seed(apps, schema_editor):
    ReadyInstruction = apps.get_model("instructions", "ReadyInstruction")
    if ReadyInstruction.objects.exists():
        return
    ReadyInstruction.objects.bulk_create(
        ReadyInstruction(
            label_en=label_en,
            text_en=text_en,
            label_zh=label_zh,
            text_zh=text_zh,
            position=position,
        )
        for position, (label_en, text_en, label_zh, text_zh) in enumerate(SEEDED)
    )


def unseed(apps, schema_editor):
    ReadyInstruction = apps.get_model("instructions", "ReadyInstruction")
    ReadyInstruction.objects.filter(label_en__in=[row[0] for row in SEEDED]).delete()


class Migration(migrations.Migration):
    dependencies = [("instructions", "0001_saved_and_ready")]

    operations = [migrations.RunPython(seed, unseed)]
