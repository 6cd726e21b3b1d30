"""Malformed and hostile requests across every section: the right code and no state change."""

import base64
import json

import pytest
from django.apps import apps
from rest_framework.test import APIClient

from accounts.tokens import token_pair_for_user
from chat import services as chat_services
from chat.models import ChatType
from groups import services as group_services
from social import services as social_services

pytestmark = pytest.mark.django_db

BIG = 2**64
HUGE = "x" * 100_000
COUNTED_MODELS = [
    "accounts.User",
    "social.Friendship",
    "social.FriendRequest",
    "groups.Group",
    "groups.GroupMember",
    "groups.GroupApplication",
    "notifications.GroupNotification",
    "chat.Conversation",
    "chat.ConversationMember",
    "chat.Message",
    "chat.MessageDeletion",
    "files.File",
    "token_blacklist.OutstandingToken",
    "token_blacklist.BlacklistedToken",
]


def snapshot() -> dict[str, tuple]:
    """Every row of the models that requests could change, as comparable tuples."""
    state = {}
    for label in COUNTED_MODELS:
        model = apps.get_model(label)
        state[label] = tuple(model.objects.order_by("pk").values_list())
    return state


@pytest.fixture
def world(make_user):
    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    request = social_services.friend_request_send(from_user=alice, to_user_id=bob.pk)
    social_services.friend_request_handle(user=bob, request_id=request.pk, action=2)
    pending = social_services.friend_request_send(from_user=carol, to_user_id=bob.pk)
    group = group_services.group_create(owner=bob, name="bobs")
    message = chat_services.message_send(
        sender=alice, chat_type=ChatType.PRIVATE, target_id=bob.pk, type=0, content="hi"
    )
    return {
        "alice": alice,
        "bob": bob,
        "carol": carol,
        "pending": pending.pk,
        "group": group.pk,
        "message": message.pk,
    }


def unsigned_token(user_id: int) -> str:
    """A token claiming ``alg: none``: no signature at all."""

    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    claims = {"token_type": "access", "user_id": user_id, "exp": 4102444800, "jti": "x", "tv": 0}
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


# (method, path, payload: dict | str | callable(world) -> dict, expected code)
CASES = [
    # --- accounts ---
    ("post", "/register", {"username": HUGE, "password": "123456", "email": "a@e.com"}, 40000),
    ("post", "/register", {"username": "eve", "password": ["123456"], "email": "a@e.com"}, 40000),
    ("post", "/register", {"username": "eve", "password": "123456", "email": "a\x00@e.com"}, 40000),
    (
        "post",
        "/register",
        {"username": "../../etc", "password": "123456", "email": "p@e.com"},
        40000,
    ),
    (
        "post",
        "/register",
        {"username": "eve\u202e", "password": "123456", "email": "q@e.com"},
        40000,
    ),
    (
        "post",
        "/register",
        {
            "username": "eve",
            "password": "123456",
            "email": "r@e.com",
            "avatar": "javascript:alert(1)",
        },
        40000,
    ),
    ("post", "/register", "[1, 2, 3]", 40000),
    ("post", "/register", "null", 40000),
    ("post", "/register", '{"username": ', 40000),
    ("post", "/login", {"username": {"$ne": ""}, "password": "x"}, 40000),
    ("post", "/login", {"username": "alice", "password": HUGE}, 40000),
    ("post", "/refresh_token", {"refresh_token": HUGE}, 40000),
    ("post", "/refresh_token", {"refresh_token": 12345}, 40001),
    ("get", "/user/info", {"user_id": "-1"}, 40000),
    ("get", "/user/info", {"user_id": str(BIG)}, 40000),
    ("get", "/user/info", {"user_id": "1e3"}, 40000),
    ("get", "/user/info", {"user_id": "0x10"}, 40000),
    ("get", "/user/info", {"user_id": "\uff11\uff12"}, 40000),  # full-width digits
    ("get", "/search", {"keyword": "k" * 51}, 40000),
    ("put", "/user/update/info", {"email": "a@b.c\n"}, 40000),
    ("put", "/user/update/info", {"nickname": {"x": 1}}, 40000),
    ("put", "/user/update/password", {"old_password": "secret123", "new_password": HUGE}, 40000),
    # --- friends ---
    ("post", "/friend/request/send", {"to_user_id": "abc"}, 40000),
    ("post", "/friend/request/send", {"to_user_id": True}, 40000),
    ("post", "/friend/request/send", {"to_user_id": 2**63}, 40000),
    ("post", "/friend/request/send", {"to_user_id": 1.5}, 40000),
    ("post", "/friend/request/send", lambda w: {"to_user_id": w["alice"].pk}, 40000),
    (
        "post",
        "/friend/request/send",
        lambda w: {"to_user_id": w["carol"].pk, "message": HUGE},
        40000,
    ),
    ("post", "/friend/request/handle", lambda w: {"request_id": w["pending"], "action": 5}, 40000),
    ("post", "/friend/request/handle", lambda w: {"request_id": w["pending"], "action": 2}, 40004),
    ("delete", "/friend/delete", {"friend_id": []}, 40000),
    ("put", "/friend/remark", lambda w: {"user_id": w["bob"].pk, "remark": "r" * 51}, 40000),
    ("post", "/friend/block", {"friend_id": -5}, 40000),
    # --- groups ---
    ("post", "/group/create", {"group_name": ""}, 40000),
    ("post", "/group/create", {"group_name": "g" * 51}, 40000),
    ("post", "/group/create", {"group_name": "ok", "description": "d" * 501}, 40000),
    ("post", "/group/invite", lambda w: {"group_id": w["group"], "user_ids": "1,2"}, 40000),
    ("post", "/group/invite", lambda w: {"group_id": w["group"], "user_ids": [1, "x"]}, 40000),
    (
        "post",
        "/group/invite",
        lambda w: {"group_id": w["group"], "user_ids": [w["carol"].pk]},
        40003,
    ),
    (
        "post",
        "/group/mute/member",
        lambda w: {"group_id": w["group"], "user_id": w["alice"].pk, "duration": -1},
        40000,
    ),
    (
        "post",
        "/group/mute/member",
        lambda w: {"group_id": w["group"], "user_id": w["alice"].pk, "duration": 10**12},
        40000,
    ),
    (
        "post",
        "/group/set/role",
        lambda w: {"group_id": w["group"], "user_id": w["bob"].pk, "role": 2},
        40000,
    ),
    ("get", "/group/info", {"group_id": "99999999"}, 40004),
    ("get", "/group/members", lambda w: {"group_id": w["group"]}, 40003),
    ("post", "/group/dismiss", lambda w: {"group_id": w["group"]}, 40003),
    # --- chat ---
    (
        "post",
        "/chat/send",
        lambda w: {"to_user_id": w["bob"].pk, "chat_type": 0, "content": "x" * 5001},
        40000,
    ),
    (
        "post",
        "/chat/send",
        lambda w: {"to_user_id": w["bob"].pk, "chat_type": "private", "content": "x"},
        40000,
    ),
    (
        "post",
        "/chat/send",
        lambda w: {"to_user_id": w["bob"].pk, "chat_type": 0, "content": {"a": 1}},
        40000,
    ),
    (
        "post",
        "/chat/send",
        lambda w: {
            "to_user_id": w["bob"].pk,
            "chat_type": 0,
            "type": 1,
            "content": "../../etc/passwd",
        },
        40000,
    ),
    (
        "post",
        "/chat/send",
        lambda w: {"group_id": w["group"], "chat_type": 1, "content": "x"},
        40003,
    ),
    (
        "get",
        "/chat/history",
        lambda w: {"target_id": w["bob"].pk, "chat_type": 0, "limit": 0},
        40000,
    ),
    (
        "get",
        "/chat/history",
        lambda w: {"target_id": w["bob"].pk, "chat_type": 0, "before_seq": -1},
        40000,
    ),
    ("get", "/chat/history", {"target_id": str(2**70), "chat_type": 0}, 40000),
    ("post", "/chat/message/recall", {"message_id": 0}, 40000),
    ("post", "/chat/message/delete", {"message_id": 99999999}, 40004),
    ("post", "/chat/conversation/delete", {"conversation_id": "1; DROP TABLE chat_message"}, 40000),
    (
        "post",
        "/chat/conversation/pin",
        lambda w: {"target_id": w["bob"].pk, "chat_type": 0, "is_pinned": "maybe"},
        40000,
    ),
    # --- files ---
    ("get", "/file/info", {"file_id": "../../etc/passwd"}, 40000),
    ("get", "/file/download", {"file_id": "' OR 1=1 --"}, 40000),
    ("get", "/file/info", {"file_id": "00000000-0000-0000-0000-000000000000"}, 40004),
    ("post", "/file/upload", {}, 40000),
]


@pytest.mark.parametrize(
    ("method", "path", "payload", "code"), CASES, ids=[f"{i}:{c[1]}" for i, c in enumerate(CASES)]
)
def test_hostile_request_is_refused_without_a_state_change(
    world, client_for, method, path, payload, code
):
    client = client_for(world["alice"])
    data = payload(world) if callable(payload) else payload
    before = snapshot()
    if method == "get":
        response = client.get(path, data)
    elif isinstance(data, str):
        response = client.generic(method.upper(), path, data, content_type="application/json")
    else:
        response = getattr(client, method)(path, data, format="json")
    body = response.json()
    assert body["code"] == code, body
    assert response.status_code < 500
    assert snapshot() == before


@pytest.mark.parametrize(
    "authorization",
    [
        "alg-none",
        "Bearer " + HUGE,
        "Bearer eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoxfQ.c2lnbmF0dXJl",  # signature of nothing
        "Basic YWxpY2U6c2VjcmV0MTIz",
    ],
)
def test_forged_or_foreign_tokens_are_40001(world, authorization):
    if authorization == "alg-none":
        authorization = f"Bearer {unsigned_token(world['alice'].pk)}"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=authorization)
    response = client.get("/user/profile")
    assert (response.status_code, response.json()["code"]) == (401, 40001)


def test_token_signed_with_another_key_is_40001(world, settings):
    import jwt

    forged = jwt.encode(
        {
            "token_type": "access",
            "user_id": world["alice"].pk,
            "exp": 4102444800,
            "jti": "x",
            "tv": 0,
        },
        "not-our-key",
        algorithm="HS256",
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert client.get("/user/profile").json()["code"] == 40001
    assert token_pair_for_user(world["alice"])  # the real key still works
