import pytest

from accounts.models import ApiToken
from editor.models import Edit, EditGroup
from webhooks.models import Webhook

from .receiver import serve

SECRET = "whsec_test-secret"


@pytest.fixture
def token(owner) -> ApiToken:
    return ApiToken.issue(owner, name="script")[0]


@pytest.fixture
def receiver(settings):
    """A receiver on 127.0.0.1, which the allow list lets deliveries reach."""
    settings.GAITU_FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    with serve(SECRET) as running:
        yield running


@pytest.fixture
def webhook(token, receiver) -> Webhook:
    return Webhook.objects.create(
        token=token, url=receiver.url, secret=SECRET, origin="https://gaitu.example"
    )


@pytest.fixture
def make_edit(owner):
    def make(token: ApiToken | None = None, group: EditGroup | None = None) -> Edit:
        return Edit.objects.create(
            owner=owner,
            instruction="make it blue",
            model="gpt-image-1",
            status=Edit.Status.RUNNING,
            api_token=token,
            group=group,
        )

    return make
