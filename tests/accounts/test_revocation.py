"""Every change of a user's password, ``is_active`` or ``status`` revokes their tokens, whatever
path made it (issue 20): the API, the admin's pages, ``manage.py changepassword``, a shell."""

import getpass
from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts import services
from accounts.models import User
from imserver.publish import REVOKE_MESSAGE_TYPE
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "Correct-Horse-Battery-42"  # passes the admin's password validators


def is_valid(client: APIClient) -> bool:
    code = client.get("/user/profile").json()["code"]
    assert code in (20000, 40001)
    return code == 20000


def stored_version(user: User) -> int:
    return User.objects.values_list("token_version", flat=True).get(pk=user.pk)


def revoke_pushes(recorder, user: User) -> list[dict]:
    """The session.revoke messages that reached the user's push group (they close sockets)."""
    recorder._run(recorder._settle(0.2))
    inbox = recorder.inboxes[user.pk]
    return [message for message in inbox if message.get("type") == REVOKE_MESSAGE_TYPE]


@pytest.fixture
def alice(make_user) -> User:
    return make_user("alice")


def test_set_password_and_save_anywhere_revokes_once_and_closes_sockets(
    alice, client_for, push_recorder, django_capture_on_commit_callbacks
):
    push_recorder.listen(alice.pk)
    client = client_for(alice)
    user = User.objects.get(pk=alice.pk)  # e.g. a shell or another process
    user.set_password("another-secret")
    with django_capture_on_commit_callbacks(execute=True):
        user.save()
    assert stored_version(alice) == 1 and user.token_version == 1
    assert not is_valid(client)
    assert revoke_pushes(push_recorder, alice) == [
        {"type": REVOKE_MESSAGE_TYPE, "user_id": alice.pk, "token_version": 1}
    ]
    user.nickname = "Al"
    user.save()  # other fields revoke nothing
    assert stored_version(alice) == 1


def test_manage_py_changepassword_revokes(alice, client_for, monkeypatch):
    client = client_for(alice)
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": STRONG_PASSWORD)
    call_command("changepassword", "alice", stdout=StringIO())
    assert stored_version(alice) == 1
    assert not is_valid(client)


def test_the_admins_password_form_revokes(alice, client_for, staff_client):
    client = client_for(alice)
    response = staff_client.post(
        f"/admin/accounts/user/{alice.pk}/password/",
        {"usable_password": "true", "password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert stored_version(alice) == 1
    assert not is_valid(client)
    assert (
        APIClient()
        .post("/login", {"username": "alice", "password": STRONG_PASSWORD}, format="json")
        .json()["code"]
        == 20000
    )


def test_an_unusable_password_set_in_the_admin_revokes(alice, client_for, staff_client):
    client = client_for(alice)
    response = staff_client.post(
        f"/admin/accounts/user/{alice.pk}/password/",
        {"usable_password": "false", "unset-password": "1"},  # the page's "Disable" button
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not User.objects.get(pk=alice.pk).has_usable_password()
    assert not is_valid(client)


def test_the_api_password_change_bumps_the_version_exactly_once(alice, client_for):
    response = client_for(alice).put(
        "/user/update/password",
        {"old_password": TEST_PASSWORD, "new_password": "brand-new-1"},
        format="json",
    )
    assert response.json()["code"] == 20000
    assert stored_version(alice) == 1
    fresh = APIClient()
    fresh.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['data']['access_token']}")
    assert is_valid(fresh)


def test_a_hash_upgraded_at_login_revokes_nothing(alice, client_for, settings):
    client = client_for(alice)
    assert alice.password.startswith("md5$")
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.ScryptPasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    answer = APIClient().post(
        "/login", {"username": "alice", "password": TEST_PASSWORD}, format="json"
    )
    assert answer.json()["code"] == 20000
    assert User.objects.get(pk=alice.pk).password.startswith("scrypt$")  # upgraded and saved
    assert stored_version(alice) == 0
    assert is_valid(client)


@pytest.mark.parametrize("how", ["untick", "tick again"])
def test_a_change_of_is_active_revokes_at_once(
    alice, client_for, push_recorder, django_capture_on_commit_callbacks, how
):
    if how == "tick again":
        User.objects.filter(pk=alice.pk).update(is_active=False)  # a bulk change: no save
        alice.refresh_from_db()
    push_recorder.listen(alice.pk)
    client = client_for(alice)
    alice.is_active = how == "tick again"
    with django_capture_on_commit_callbacks(execute=True):
        alice.save(update_fields=["is_active"])
    assert stored_version(alice) == 1
    assert not is_valid(client)
    assert len(revoke_pushes(push_recorder, alice)) == 1


def test_the_admins_change_form_unticking_is_active_revokes(alice, client_for, staff_client):
    client = client_for(alice)
    page = staff_client.get(f"/admin/accounts/user/{alice.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name in form.fields and not form.fields[name].disabled
    }
    for name in ("groups", "user_permissions"):
        data.pop(name, None)
    for name in ("date_joined", "last_login"):
        data.pop(name, None)
    data.update({"is_active": "", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"})
    data = {name: value for name, value in data.items() if value is not False}
    response = staff_client.post(f"/admin/accounts/user/{alice.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert not User.objects.get(pk=alice.pk).is_active
    assert stored_version(alice) == 1
    assert not is_valid(client)


def test_ban_and_unban_each_revoke_once_and_banning_twice_changes_nothing(alice):
    services.user_set_banned(user=alice, banned=True)
    assert stored_version(alice) == 1
    services.user_set_banned(user=alice, banned=True)
    assert stored_version(alice) == 1
    services.user_set_banned(user=alice, banned=False)
    assert stored_version(alice) == 2


def test_a_new_user_and_a_login_revoke_nothing(make_user):
    user = make_user("carol")
    assert stored_version(user) == 0
    APIClient().post("/login", {"username": "carol", "password": TEST_PASSWORD}, format="json")
    assert stored_version(user) == 0


def test_a_profile_update_racing_a_ban_does_not_undo_it(alice):
    stale = User.objects.get(pk=alice.pk)  # a request's copy, read before the ban commits
    services.user_set_banned(user=User.objects.get(pk=alice.pk), banned=True)
    services.user_update_info(user=stale, nickname="Ally")
    stored = User.objects.get(pk=alice.pk)
    assert (stored.nickname, stored.is_banned, stored.token_version) == ("Ally", True, 1)
