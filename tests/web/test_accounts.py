import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse


@pytest.mark.django_db
def test_first_visit_offers_the_owner_account(client):
    assert client.get(reverse("studio"))["Location"].startswith(reverse("login"))
    assert client.get(reverse("login"))["Location"] == reverse("setup")
    response = client.post(
        reverse("setup"),
        {"username": "mei", "password1": "a long pass phrase", "password2": "a long pass phrase"},
    )
    assert response["Location"] == reverse("studio")
    owner = get_user_model().objects.get()
    assert owner.is_superuser and owner.is_staff
    assert client.get(reverse("studio")).status_code == 200


@pytest.mark.django_db
def test_setup_is_closed_once_an_account_exists(client, owner):
    assert client.get(reverse("setup"))["Location"] == reverse("login")
    client.post(
        reverse("setup"),
        {
            "username": "intruder",
            "password1": "a long pass phrase",
            "password2": "a long pass phrase",
        },
    )
    assert get_user_model().objects.count() == 1


@pytest.mark.parametrize("name", ["studio", "gallery"])
def test_pages_need_a_login(client, owner, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_page_and_demo_badge(client, owner):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert "Demo mode" in page.text
    client.post(reverse("login"), {"username": "owner", "password": "correct horse battery"})
    assert client.get(reverse("studio")).status_code == 200


def test_chinese_interface(owner_client):
    page = owner_client.get(reverse("studio"), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert 'lang="zh-hans"' in page.text
    assert "编辑图片" in page.text
