# ApiToken now belongs to the accounts app (accounts/migrations/0001 takes it over, table and
# all); here it only leaves the editor app's record.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("editor", "0004_sourceimage_metadata_removed"),
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="ApiToken")],
            database_operations=[],
        )
    ]
