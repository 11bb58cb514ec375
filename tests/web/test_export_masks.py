"""An edit's mask, and the provider and API it went through, leave in the gallery's ZIP and
come back with an import."""

import io
import json
import zipfile

import pytest
from django.core.files.base import ContentFile
from PIL import Image

from editor import services
from editor.forms import checked_picture
from editor.models import Edit
from exports.archive import INDEX_JSON, write_archive
from exports.importing import ImportRefused, import_archive
from tests.support.factories import image_bytes, upload
from tests.web.test_export_groups import an_edit, index_of, zip_of


def mask_png(size=(64, 48)) -> bytes:
    mask = Image.new("RGBA", size, (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (0, 0, size[0] // 2, size[1]))
    out = io.BytesIO()
    mask.save(out, "PNG")
    return out.getvalue()


def test_a_mask_goes_out_and_comes_back(owner, stranger, run_jobs):
    with run_jobs():
        services.submit(
            owner,
            instruction="invert the colours",
            model="gpt-image-1",
            uploads=[checked_picture(upload())],
            mask=ContentFile(mask_png(), name="mask.png"),
        )
    out = io.BytesIO()
    write_archive(owner, out)
    archive = zipfile.ZipFile(out)
    (entry,) = json.loads(archive.read(INDEX_JSON))["edits"]
    assert archive.read(entry["mask"]) == mask_png()
    assert (entry["provider"], entry["transport"]) == ("demo", "images")

    import_archive(stranger, upload("gallery.zip", out.getvalue(), "application/zip"))
    imported = Edit.objects.get(owner=stranger)
    assert (imported.provider, imported.transport) == ("demo", "images")
    with imported.masked_source.mask.open("rb") as stored:
        assert stored.read() == mask_png()


def test_an_imported_mask_must_fit_its_picture(owner):
    files = {
        "gaitu-index.json": index_of(an_edit(mask="masks/a.png")),
        "originals/a.jpg": image_bytes((64, 48)),
        "masks/a.png": mask_png((10, 10)),
    }
    with pytest.raises(ImportRefused) as refused:
        import_archive(owner, upload("odd.zip", zip_of(files), "application/zip"))
    assert "10 × 10" in refused.value.message
    assert not Edit.objects.exists()


def test_a_mask_the_archive_does_not_hold_is_refused_before_anything_is_read(owner):
    files = {
        "gaitu-index.json": index_of(an_edit(mask="masks/gone.png")),
        "originals/a.jpg": image_bytes(),
    }
    with pytest.raises(ImportRefused) as refused:
        import_archive(owner, upload("odd.zip", zip_of(files), "application/zip"))
    assert refused.value.code == "missing_picture"
