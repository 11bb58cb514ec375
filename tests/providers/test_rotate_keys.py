"""`manage.py rotate_provider_keys`: every stored key encrypted again with the first
encryption key, so the old one can go; a key none of them decrypts is named and left."""

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command

from providers.models import Provider
from providers.secrets import KeyUnreadable

pytestmark = pytest.mark.django_db

OLD, NEW, LOST = (Fernet.generate_key().decode() for _ in range(3))


def rotate() -> str:
    out = StringIO()
    call_command("rotate_provider_keys", stdout=out)
    return out.getvalue()


def test_every_key_is_encrypted_again_with_the_first(settings, make_provider):
    settings.GAITU_PROVIDER_KEYS = [OLD]
    make_provider("Cloud", key="sk-cloud")
    make_provider("Spare", key="sk-spare")
    before = dict(Provider.objects.values_list("name", "encrypted_key"))

    settings.GAITU_PROVIDER_KEYS = [NEW, OLD]
    assert "Re-encrypted 2 provider keys." in rotate()
    after = dict(Provider.objects.values_list("name", "encrypted_key"))
    assert all(after[name] != before[name] for name in before)

    settings.GAITU_PROVIDER_KEYS = [NEW]  # the old one dropped: each key still reads
    assert {p.name: p.key() for p in Provider.objects.all()} == {
        "Cloud": "sk-cloud",
        "Spare": "sk-spare",
    }


def test_a_key_that_cannot_be_decrypted_is_named_and_left(settings, make_provider):
    settings.GAITU_PROVIDER_KEYS = [LOST]
    lost = make_provider("Forgotten", key="sk-lost")
    settings.GAITU_PROVIDER_KEYS = [OLD]
    make_provider("Cloud", key="sk-cloud")

    settings.GAITU_PROVIDER_KEYS = [NEW, OLD]
    out = StringIO()
    with pytest.raises(CommandError, match="Forgotten") as failed:
        call_command("rotate_provider_keys", stdout=out)
    assert failed.value.returncode == 1  # what `manage.py` exits with
    assert "Re-encrypted 1 provider key." in out.getvalue()
    assert "sk-" not in str(failed.value)
    unchanged = Provider.objects.get(name="Forgotten")
    assert unchanged.encrypted_key == lost.encrypted_key
    with pytest.raises(KeyUnreadable):
        unchanged.key()
    settings.GAITU_PROVIDER_KEYS = [NEW]
    assert Provider.objects.get(name="Cloud").key() == "sk-cloud"
