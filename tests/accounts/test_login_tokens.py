from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from accounts import services
from accounts.models import User
from accounts.tokens import TOKEN_VERSION_CLAIM
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def login(client, username, password=TEST_PASSWORD, **extra):
    return client.post(
        "/login", {"username": username, "password": password}, format="json", **extra
    )


def test_login_returns_a_working_token_pair(api_client, make_user):
    make_user("alice")
    response = login(api_client, "alice")
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["access_token"] and data["refresh_token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {data['access_token']}")
    assert api_client.get("/user/profile").json()["data"]["username"] == "alice"


def test_login_by_email_and_any_case(api_client, make_user):
    make_user("alice", email="Alice@Example.com")
    assert login(api_client, "alice@example.com").json()["code"] == 20000
    assert login(api_client, "ALICE").json()["code"] == 20000


@pytest.mark.parametrize(("username", "password"), [("alice", "wrong-pass"), ("nobody", "123456")])
def test_wrong_credentials_are_40001(api_client, make_user, username, password):
    make_user("alice")
    response = login(api_client, username, password)
    assert (response.status_code, response.json()["code"]) == (401, 40001)
    assert "access_token" not in response.content.decode()


def test_missing_login_field_is_40000(api_client):
    response = api_client.post("/login", {"username": "alice"}, format="json")
    assert response.json() == {"code": 40000, "message": "参数错误: password: 该字段是必填项。"}


def test_banned_user_cannot_log_in(api_client, make_user):
    make_user("alice", status=User.Status.BANNED)
    response = login(api_client, "alice")
    assert (response.status_code, response.json()["code"]) == (403, 40003)


@override_settings(IM_LOGIN_FAILURES_PER_USERNAME=3, IM_LOGIN_FAILURES_PER_IP=100)
def test_failed_logins_are_limited_per_username(api_client, make_user):
    make_user("alice")
    for _ in range(3):
        assert login(api_client, "alice", "wrong-pass").json()["code"] == 40001
    blocked = login(api_client, "ALICE")  # even the right password, any case
    assert (blocked.status_code, blocked.json()["code"]) == (429, 42900)
    # Another username from the same address is not affected.
    make_user("bob")
    assert login(api_client, "bob").json()["code"] == 20000


@override_settings(IM_LOGIN_FAILURES_PER_USERNAME=100, IM_LOGIN_FAILURES_PER_IP=3)
def test_failed_logins_are_limited_per_ip(api_client, make_user):
    make_user("alice")
    for name in ("x1", "x2", "x3"):
        login(api_client, name, "wrong-pass")
    assert login(api_client, "alice").json()["code"] == 42900
    other_ip = login(api_client, "alice", REMOTE_ADDR="10.9.9.9")
    assert other_ip.json()["code"] == 20000


@override_settings(IM_THROTTLE=False, IM_LOGIN_FAILURES_PER_USERNAME=1)
def test_im_throttle_off_disables_the_login_limit(api_client, make_user):
    make_user("alice")
    for _ in range(3):
        login(api_client, "alice", "wrong-pass")
    assert login(api_client, "alice").json()["code"] == 20000


def test_refresh_rotates_and_rejects_reuse(api_client, make_user):
    make_user("alice")
    first = login(api_client, "alice").json()["data"]
    rotated = api_client.post("/refresh_token", {"refresh_token": first["refresh_token"]})
    assert rotated.status_code == 200
    pair = rotated.json()["data"]
    assert pair["refresh_token"] != first["refresh_token"] and pair["access_token"]

    # The rotated one works once (a reuse of the first one would revoke it: test_account_security).
    again = api_client.post("/refresh_token", {"refresh_token": pair["refresh_token"]})
    assert again.json()["code"] == 20000
    reused = api_client.post("/refresh_token", {"refresh_token": first["refresh_token"]})
    assert (reused.status_code, reused.json()["code"]) == (401, 40001)


@pytest.mark.parametrize("token", ["garbage", "a.b.c"])
def test_refresh_with_a_bad_token_is_40001(api_client, token):
    assert api_client.post("/refresh_token", {"refresh_token": token}).json()["code"] == 40001


def test_an_access_token_is_no_refresh_token(api_client, make_user):
    make_user("alice")
    access = login(api_client, "alice").json()["data"]["access_token"]
    assert api_client.post("/refresh_token", {"refresh_token": access}).json()["code"] == 40001


def test_refresh_token_missing_is_40000(api_client):
    response = api_client.post("/refresh_token", {}, format="json")
    assert response.json()["code"] == 40000
    assert "refresh_token" in response.json()["message"]


def test_logout_blacklists_the_refresh_token(api_client, make_user):
    make_user("alice")
    pair = login(api_client, "alice").json()["data"]
    assert (
        api_client.post("/logout", {"refresh_token": pair["refresh_token"]}).json()["code"] == 20000
    )
    again = api_client.post("/refresh_token", {"refresh_token": pair["refresh_token"]})
    assert again.json()["code"] == 40001


def test_password_change_revokes_every_older_token(api_client, make_user, client_for):
    user = make_user("alice")
    old_pair = login(api_client, "alice").json()["data"]
    other_device = client_for(user)

    me = client_for(user)
    response = me.put(
        "/user/update/password",
        {"old_password": TEST_PASSWORD, "new_password": "brand-new"},
        format="json",
    )
    assert response.json()["code"] == 20000
    new_pair = response.json()["data"]

    assert other_device.get("/user/profile").json()["code"] == 40001
    assert me.get("/user/profile").status_code == 401
    refresh_old = api_client.post("/refresh_token", {"refresh_token": old_pair["refresh_token"]})
    assert refresh_old.json()["code"] == 40001
    # The pair handed back with the change works, and so does the new password.
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {new_pair['access_token']}")
    assert api_client.get("/user/profile").json()["code"] == 20000
    assert login(api_client, "alice", "brand-new").json()["code"] == 20000
    assert login(api_client, "alice").json()["code"] == 40001


def test_ban_revokes_tokens_at_once_and_unban_does_not_revive_them(
    api_client, make_user, client_for
):
    user = make_user("alice")
    pair = login(api_client, "alice").json()["data"]
    client = client_for(user)
    assert client.get("/user/profile").json()["code"] == 20000

    services.user_set_banned(user=user, banned=True)
    assert client.get("/user/profile").json()["code"] == 40001
    assert (
        api_client.post("/refresh_token", {"refresh_token": pair["refresh_token"]}).json()["code"]
        == 40001
    )
    assert login(api_client, "alice").json()["code"] == 40003

    services.user_set_banned(user=user, banned=False)
    assert client.get("/user/profile").json()["code"] == 40001
    assert login(api_client, "alice").json()["code"] == 20000


def test_token_of_a_deleted_user_is_40001(make_user, client_for):
    user = make_user("alice")
    client = client_for(user)
    user.delete()
    assert client.get("/user/profile").json()["code"] == 40001


def test_token_of_an_inactive_user_or_without_a_user_id_is_40001(api_client, make_user, client_for):
    user = make_user("alice")
    client = client_for(user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert client.get("/user/profile").json()["code"] == 40001
    token = AccessToken.for_user(make_user("bob"))
    del token["user_id"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api_client.get("/user/profile").json()["code"] == 40001


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer not-a-jwt", "Token abc", "Bearer a.b.c"])
def test_missing_or_invalid_access_token_is_40001(api_client, header):
    if header:
        api_client.credentials(HTTP_AUTHORIZATION=header)
    response = api_client.get("/user/profile")
    assert (response.status_code, response.json()["code"]) == (401, 40001)


def test_expired_access_token_is_40001(api_client, make_user):
    user = make_user("alice")
    token = AccessToken.for_user(user)
    token[TOKEN_VERSION_CLAIM] = user.token_version
    token.set_exp(from_time=timezone.now() - timedelta(hours=3))
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api_client.get("/user/profile").json()["code"] == 40001


def test_logout_on_all_devices_revokes_every_token_of_the_user(api_client, make_user):
    make_user("alice")
    phone = login(api_client, "alice").json()["data"]
    laptop = login(api_client, "alice").json()["data"]
    answer = api_client.post(
        "/logout", {"refresh_token": phone["refresh_token"], "all_devices": True}, format="json"
    )
    assert answer.json()["code"] == 20000
    for pair in (phone, laptop):
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access_token']}")
        assert api_client.get("/user/profile").json()["code"] == 40001
        api_client.credentials()
        refresh = api_client.post("/refresh_token", {"refresh_token": pair["refresh_token"]})
        assert refresh.json()["code"] == 40001
    # Issued after it, within the same second: valid.
    fresh = login(api_client, "alice").json()["data"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {fresh['access_token']}")
    assert api_client.get("/user/profile").json()["code"] == 20000


def test_logout_on_all_devices_needs_a_current_refresh_token(api_client, make_user):
    make_user("alice")
    pair = login(api_client, "alice").json()["data"]
    api_client.post("/logout", {"refresh_token": pair["refresh_token"]})
    again = api_client.post(
        "/logout", {"refresh_token": pair["refresh_token"], "all_devices": True}, format="json"
    )
    assert again.json()["code"] == 40001
    bad = api_client.post(
        "/logout", {"refresh_token": pair["refresh_token"], "all_devices": "maybe"}, format="json"
    )
    assert bad.json()["code"] == 40000 and "all_devices" in bad.json()["message"]
