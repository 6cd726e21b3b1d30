import pytest

from accounts.models import User
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.django_db

USER_FIELDS = {"id", "username", "email", "nickname", "avatar", "status", "create_at", "update_at"}


def test_profile_returns_every_documented_field(make_user, client_for):
    user = make_user("alice", avatar="https://e.com/a.png")
    data = client_for(user).get("/user/profile").json()["data"]
    assert set(data) == USER_FIELDS
    assert data["id"] == user.id and data["status"] == 1
    assert isinstance(data["create_at"], int) and data["create_at"] == int(
        user.created_at.timestamp()
    )


def test_user_info_for_any_existing_user(make_user, client_for):
    me, other = make_user("alice"), make_user("bob")
    response = client_for(me).get("/user/info", {"user_id": str(other.id)})
    assert response.json()["data"]["username"] == "bob"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, 40000),
        ({"user_id": "abc"}, 40000),
        ({"user_id": "0"}, 40000),
        ({"user_id": "-3"}, 40000),
        ({"user_id": str(2**70)}, 40000),
        ({"user_id": "999999"}, 40004),
    ],
)
def test_user_info_refusals(make_user, client_for, params, code):
    response = client_for(make_user("alice")).get("/user/info", params)
    assert response.json()["code"] == code
    if code == 40000:
        assert "user_id" in response.json()["message"]
    else:
        assert response.status_code == 404


def test_update_info_is_partial(make_user, client_for):
    user = make_user("alice", avatar="https://e.com/a.png")
    response = client_for(user).put("/user/update/info", {"nickname": "Ally"}, format="json")
    assert response.json() == {"code": 20000, "message": "success", "data": {"message": "更新成功"}}
    user.refresh_from_db()
    assert (user.nickname, user.avatar, user.email) == (
        "Ally",
        "https://e.com/a.png",
        "alice@example.com",
    )


def test_update_info_changes_email_and_avatar(make_user, client_for):
    user = make_user("alice")
    body = {"email": "new@example.com", "avatar": "http://e.com/b.png"}
    assert client_for(user).put("/user/update/info", body, format="json").json()["code"] == 20000
    user.refresh_from_db()
    assert (user.email, user.avatar) == ("new@example.com", "http://e.com/b.png")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"nickname": "n" * 51}, "nickname"),
        ({"email": "bad"}, "email"),
        ({"avatar": "javascript:alert(1)"}, "avatar"),
        ({"nickname": ["x"]}, "nickname"),
    ],
)
def test_update_info_validates_like_register(make_user, client_for, body, field):
    response = client_for(make_user("alice")).put("/user/update/info", body, format="json")
    assert response.json()["code"] == 40000
    assert response.json()["message"].startswith(f"参数错误: {field}: ")


def test_update_info_email_taken_is_40009_but_own_email_in_other_case_is_fine(
    make_user, client_for
):
    alice = make_user("alice")
    make_user("bob", email="bob@example.com")
    client = client_for(alice)
    taken = client.put("/user/update/info", {"email": "BOB@example.com"}, format="json")
    assert (taken.status_code, taken.json()["code"]) == (409, 40009)
    own = client.put("/user/update/info", {"email": "ALICE@example.com"}, format="json")
    assert own.json()["code"] == 20000


@pytest.mark.parametrize(
    ("body", "message_part"),
    [
        ({"old_password": "wrong-one", "new_password": "abcdef"}, "old_password"),
        ({"old_password": TEST_PASSWORD, "new_password": "abc"}, "new_password"),
        ({"old_password": TEST_PASSWORD, "new_password": "x" * 51}, "new_password"),
        ({"old_password": TEST_PASSWORD, "new_password": TEST_PASSWORD}, "new_password"),
        ({"new_password": "abcdef"}, "old_password"),
    ],
)
def test_update_password_refusals_are_40000(make_user, client_for, body, message_part):
    user = make_user("alice")
    response = client_for(user).put("/user/update/password", body, format="json")
    assert (response.status_code, response.json()["code"]) == (400, 40000)
    assert message_part in response.json()["message"]
    user.refresh_from_db()
    assert user.check_password(TEST_PASSWORD) and user.token_version == 0


def test_password_change_message(make_user, client_for):
    response = client_for(make_user("alice")).put(
        "/user/update/password",
        {"old_password": TEST_PASSWORD, "new_password": "654321"},
        format="json",
    )
    data = response.json()["data"]
    assert data["message"] == "密码修改成功"
    assert User.objects.get(username="alice").check_password("654321")
