import pytest

from accounts.models import User

pytestmark = pytest.mark.django_db

VALID = {
    "username": "alice",
    "password": "123456",
    "email": "alice@example.com",
    "nickname": "Alice",
    "avatar": "https://example.com/a.png",
}


def register(api_client, **overrides):
    body = {**VALID, **overrides}
    body = {key: value for key, value in body.items() if value is not None}
    return api_client.post("/register", body, format="json")


def test_register_succeeds_and_hashes_the_password(api_client):
    response = register(api_client)
    assert response.status_code == 200
    assert response.json() == {"code": 20000, "message": "success", "data": {"message": "注册成功"}}
    user = User.objects.get(username="alice")
    assert user.password != "123456" and user.check_password("123456")
    assert (user.nickname, user.avatar, user.status) == ("Alice", "https://example.com/a.png", 1)


def test_nickname_defaults_to_username_and_avatar_is_optional(api_client):
    assert register(api_client, nickname=None, avatar=None).json()["code"] == 20000
    user = User.objects.get(username="alice")
    assert (user.nickname, user.avatar) == ("alice", "")


MISSING = object()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("username", "ab"),  # shorter than 3
        ("username", "a" * 21),  # longer than 20
        ("username", "bad name"),  # space
        ("username", "bad@name"),  # not in the allowed set
        ("username", "名字名字"),  # letters outside ASCII are not in the set
        ("username", "   "),  # blank after trimming
        ("username", ["alice"]),  # wrong type
        ("username", MISSING),
        ("password", "12345"),  # shorter than 6
        ("password", "x" * 51),  # longer than 50
        ("password", MISSING),
        ("email", "not-an-email"),
        ("email", MISSING),
        ("nickname", "n" * 51),
        ("avatar", "ftp://example.com/a.png"),
        ("avatar", "not a url"),
    ],
)
def test_each_register_limit_is_a_40000_naming_the_field(api_client, field, value):
    body = {key: val for key, val in VALID.items() if key != field}
    if value is not MISSING:
        body[field] = value
    response = api_client.post("/register", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == 40000
    assert response.json()["message"].startswith(f"参数错误: {field}: ")
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("username", "abc"),
        ("username", "a" * 20),
        ("username", "a_b-c.d"),
        ("password", "x" * 6),
        ("password", "x" * 50),
        ("nickname", "n" * 50),
        ("nickname", ""),
        ("avatar", "http://e.com"),
    ],
)
def test_register_accepts_the_boundaries(api_client, field, value):
    assert register(api_client, **{field: value}).json()["code"] == 20000


def test_username_and_email_are_unique_case_insensitively(api_client):
    assert register(api_client).json()["code"] == 20000
    same_username = register(api_client, username="ALICE", email="other@example.com")
    assert same_username.status_code == 409
    assert same_username.json()["code"] == 40009
    same_email = register(api_client, username="alice2", email="ALICE@Example.com")
    assert same_email.status_code == 409
    assert same_email.json()["code"] == 40009
    assert User.objects.count() == 1


def test_strings_are_trimmed(api_client):
    assert register(api_client, username="  bob  ", nickname="  Bob ").json()["code"] == 20000
    user = User.objects.get(username="bob")
    assert user.nickname == "Bob"


def test_unknown_fields_are_ignored(api_client):
    assert register(api_client, is_staff=True, status=2).json()["code"] == 20000
    user = User.objects.get(username="alice")
    assert not user.is_staff and user.status == 1


def test_english_messages_with_accept_language(api_client):
    response = api_client.post(
        "/register", {**VALID, "password": "1"}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.json()["message"].startswith("Invalid parameter: password:")
