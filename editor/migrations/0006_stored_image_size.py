from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.models.fields.files import FieldFile

SIZE = models.PositiveBigIntegerField(
    default=0, help_text="Bytes stored: the picture and its thumbnail."
)


def measure_stored_pictures(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    """Fill in the size of every picture stored before it was counted, from its files."""
    for model_name in ("SourceImage", "ResultImage"):
        model = apps.get_model("editor", model_name)
        measured = []
        for image in model.objects.only("file", "thumbnail").iterator(chunk_size=500):
            image.size = sum(_bytes_of(field) for field in (image.file, image.thumbnail))
            measured.append(image)
        model.objects.bulk_update(measured, ["size"], batch_size=500)


def _bytes_of(field: FieldFile) -> int:
    if not field.name:
        return 0
    try:
        return field.storage.size(field.name)
    except OSError:  # a file already gone counts for nothing
        return 0


class Migration(migrations.Migration):
    dependencies = [("editor", "0005_apitoken_moved_to_accounts")]

    operations = [
        migrations.AddField(model_name="sourceimage", name="size", field=SIZE),
        migrations.AddField(model_name="resultimage", name="size", field=SIZE),
        migrations.RunPython(measure_stored_pictures, migrations.RunPython.noop, elidable=True),
    ]
