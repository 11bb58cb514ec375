"""Migration 0006 counts the pictures stored before sizes were kept, from their files."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("editor", "0005_apitoken_moved_to_accounts")]
AFTER = [("editor", "0006_stored_image_size")]


@pytest.mark.django_db(transaction=True)
def test_existing_pictures_get_the_size_of_their_files(media_root):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        owner = old.get_model("auth", "User").objects.create(username="early")
        edit = old.get_model("editor", "Edit").objects.create(owner=owner, instruction="sepia")
        original = default_storage.save("originals/a.jpg", ContentFile(b"x" * 1000))
        thumb = default_storage.save("thumbs/a.webp", ContentFile(b"t" * 100))
        result = default_storage.save("results/a.png", ContentFile(b"r" * 3000))
        old.get_model("editor", "SourceImage").objects.create(
            edit=edit, file=original, thumbnail=thumb, position=0
        )
        # A result with no thumbnail, and one whose file has gone: both still counted right.
        results = old.get_model("editor", "ResultImage").objects
        results.create(edit=edit, file=result, position=0)
        results.create(edit=edit, file="results/gone.png", position=1)

        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        new = executor.loader.project_state(AFTER).apps
        assert new.get_model("editor", "SourceImage").objects.get().size == 1100
        sizes = new.get_model("editor", "ResultImage").objects.order_by("position")
        assert list(sizes.values_list("size", flat=True)) == [3000, 0]
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
