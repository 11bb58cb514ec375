import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from providers.models import Provider


@pytest.fixture
def site_owner(db):
    return get_user_model().objects.create_superuser("boss", password="a long owner password")


@pytest.fixture
def boss(site_owner) -> Client:
    client = Client()
    client.force_login(site_owner)
    return client


@pytest.fixture
def make_provider(db):
    def make(name: str = "Cloud", key: str = "sk-test-1", **fields) -> Provider:
        fields.setdefault("base_url", "https://cloud.example.com/v1")
        provider = Provider(name=name, **fields)
        provider.set_key(key)
        provider.save()
        return provider

    return make
