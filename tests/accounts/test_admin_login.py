"""A banned staff member loses the admin: the login page refuses them, and a session they
already hold ends at their next request (accounts/backends.py), through the admin pages."""

import pytest
from django.test import Client

from accounts import services
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def admin_login(client: Client, username: str, password: str = TEST_PASSWORD):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "next": "/admin/"},
    )


def is_in_the_admin(client: Client) -> bool:
    page = client.get("/admin/")
    assert page.status_code in (200, 302)
    return page.status_code == 200


@pytest.mark.parametrize("superuser", [False, True])
def test_a_banned_staff_member_cannot_log_in_to_the_admin(make_user, superuser):
    make_user("mod", is_staff=True, is_superuser=superuser)
    client = Client()
    assert admin_login(client, "mod").status_code == 302 and is_in_the_admin(client)

    banned = make_user("banned-mod", is_staff=True, is_superuser=superuser)
    services.user_set_banned(user=banned, banned=True)
    client = Client()
    refused = admin_login(client, "banned-mod")
    assert refused.status_code == 200  # the login form again, with its error
    assert refused.context["form"].errors
    assert not is_in_the_admin(client)


def test_a_staff_member_banned_while_logged_in_is_logged_out(make_user):
    moderator = make_user("mod", is_staff=True, is_superuser=True)
    client = Client()
    admin_login(client, "mod")
    assert is_in_the_admin(client)
    services.user_set_banned(user=moderator, banned=True)
    assert not is_in_the_admin(client)
    assert client.get("/admin/accounts/user/").status_code == 302
    # Unbanned, they log in again with their password.
    services.user_set_banned(user=moderator, banned=False)
    assert admin_login(client, "mod").status_code == 302 and is_in_the_admin(client)


def test_an_admin_password_reset_ends_the_users_admin_sessions(make_user):
    moderator = make_user("mod", is_staff=True)
    client = Client()
    admin_login(client, "mod")
    assert is_in_the_admin(client)
    moderator.set_password("Another-Strong-Password-7")
    moderator.save()
    assert not is_in_the_admin(client)
