from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("editor", "0003_edit_again")]

    operations = [
        # Originals stored before this field existed were cleaned while being uploaded.
        migrations.AddField(
            model_name="sourceimage",
            name="metadata_removed",
            field=models.BooleanField(
                default=True, help_text="The stored file was rewritten without its metadata."
            ),
        ),
        migrations.AlterField(
            model_name="sourceimage",
            name="metadata_removed",
            field=models.BooleanField(
                default=False, help_text="The stored file was rewritten without its metadata."
            ),
        ),
    ]
