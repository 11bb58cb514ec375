from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("editor", "0006_stored_image_size"),
    ]

    operations = [
        migrations.AddField(
            model_name="edit",
            name="error_reason",
            field=models.CharField(blank=True, max_length=40),
        ),
    ]
