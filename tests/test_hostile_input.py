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
    "chat.Reaction",
    "chat.MessageEdit",
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
        "post",
        "/chat/send",
        lambda w: {"to_user_id": w["bob"].pk, "chat_type": 0, "content": "x", "reply_to": "1; --"},
        40000,
    ),
    (
        "post",
        "/chat/send",
        lambda w: {"to_user_id": w["bob"].pk, "chat_type": 0, "content": "x", "reply_to": BIG},
        40000,
    ),
    (
        "post",
        "/chat/send",
        lambda w: {"to_user_id": w["bob"].pk, "chat_type": 0, "content": "x", "reply_to": 10**12},
        40004,
    ),
    (
        "post",
        "/chat/send",
        lambda w: {"to_user_id": w["bob"].pk, "chat_type": 0, "content": "x", "mentions": [1]},
        40000,
    ),
    (
        "post",
        "/chat/send",
        lambda w: {
            "to_user_id": w["bob"].pk,
            "chat_type": 0,
            "content": "x",
            "mentions": list(range(1, 10_000)),
        },
        40000,
    ),
    (
        "post",
        "/chat/send",
        lambda w: {"to_user_id": w["bob"].pk, "chat_type": 0, "content": "x", "mention_all": [1]},
        40000,
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
    # read receipts, mute, badge (CONTRACT 10)
    ("get", "/chat/message/readers", {"message_id": "1 OR 1=1"}, 40000),
    ("get", "/chat/message/readers", {"message_id": str(BIG)}, 40000),
    ("get", "/chat/message/readers", {"message_id": "99999999"}, 40004),
    ("get", "/chat/message/readers", lambda w: {"message_id": w["message"]}, 40000),  # private
    (
        "post",
        "/chat/conversation/mute",
        lambda w: {"target_id": w["bob"].pk, "chat_type": 0, "is_muted": "maybe"},
        40000,
    ),
    (
        "post",
        "/chat/conversation/mute",
        {"target_id": "1; DROP TABLE chat_conversation", "chat_type": 0, "is_muted": True},
        40000,
    ),
    (
        "post",
        "/chat/conversation/mute",
        lambda w: {"target_id": w["group"], "chat_type": 1, "is_muted": True},
        40003,
    ),
    ("get", "/chat/unread-count", {"user_id": "1; DROP TABLE chat_message"}, 20000),
    # --- chat: reactions ---
    ("post", "/chat/message/react", lambda w: {"message_id": w["message"], "emoji": ""}, 40000),
    ("post", "/chat/message/react", lambda w: {"message_id": w["message"], "emoji": HUGE}, 40000),
    ("post", "/chat/message/react", lambda w: {"message_id": w["message"], "emoji": 7}, 40000),
    (
        "post",
        "/chat/message/react",
        lambda w: {"message_id": w["message"], "emoji": "\U0001f44d" * 33},
        40000,
    ),
    (
        "post",
        "/chat/message/react",
        lambda w: {"message_id": w["message"], "emoji": {"$ne": ""}},
        40000,
    ),
    (
        "post",
        "/chat/message/react",
        {"message_id": "1; DROP TABLE chat_reaction", "emoji": "x"},
        40000,
    ),
    ("post", "/chat/message/react", {"message_id": 99999999, "emoji": "x"}, 40004),
    ("post", "/chat/message/unreact", lambda w: {"message_id": w["message"], "emoji": [1]}, 40000),
    ("post", "/chat/message/unreact", {"message_id": BIG, "emoji": "x"}, 40000),
    ("post", "/chat/message/unreact", {"message_id": 99999999, "emoji": "x"}, 40004),
    # edit and forward (CONTRACT 10)
    (
        "post",
        "/chat/message/edit",
        {"message_id": "1; DROP TABLE chat_message", "content": "x"},
        40000,
    ),
    ("post", "/chat/message/edit", {"message_id": BIG, "content": "x"}, 40000),
    ("post", "/chat/message/edit", {"message_id": 10**12, "content": "x"}, 40004),
    ("post", "/chat/message/edit", lambda w: {"message_id": w["message"], "content": HUGE}, 40000),
    ("post", "/chat/message/edit", lambda w: {"message_id": w["message"], "content": "  "}, 40000),
    ("post", "/chat/message/edit", lambda w: {"message_id": w["message"], "content": ["x"]}, 40000),
    (
        "post",
        "/chat/message/edit",
        lambda w: {"message_id": w["message"], "content": {"$set": "x"}},
        40000,
    ),
    (
        "post",
        "/chat/message/forward",
        lambda w: {"message_id": w["message"], "chat_type": 0, "target_id": "1 OR 1=1"},
        40000,
    ),
    (
        "post",
        "/chat/message/forward",
        lambda w: {"message_id": BIG, "chat_type": 1, "target_id": w["group"]},
        40000,
    ),
    (
        "post",
        "/chat/message/forward",
        lambda w: {"message_id": 10**12, "chat_type": 0, "target_id": w["bob"].pk},
        40004,
    ),
    (
        "post",
        "/chat/message/forward",
        lambda w: {"message_id": w["message"], "chat_type": 1, "target_id": w["group"]},
        40003,
    ),
    (
        "post",
        "/chat/message/forward",
        lambda w: {"message_id": w["message"], "chat_type": 0, "target_id": w["carol"].pk},
        40003,
    ),
    (
        "post",
        "/chat/message/forward",
        lambda w: {"message_id": w["message"], "chat_type": 0, "target_id": w["alice"].pk},
        40000,
    ),
    (
        "post",
        "/chat/message/forward",
        lambda w: {"message_id": w["message"], "to_user_id": w["bob"].pk, "client_msg_id": HUGE},
        40000,
    ),
    (
        "post",
        "/chat/message/forward",
        lambda w: {"message_id": w["message"], "chat_type": [0], "target_id": w["bob"].pk},
        40000,
    ),
    # --- chat: search (CONTRACT 11) ---
    ("get", "/chat/search", {}, 40000),
    ("get", "/chat/search", {"keyword": "   "}, 40000),
    ("get", "/chat/search", {"keyword": HUGE}, 40000),
    ("get", "/chat/search", {"keyword": "%' OR 1=1 --"}, 20000),
    ("get", "/chat/search", {"keyword": '" OR * NEAR(a b) "'}, 20000),
    ("get", "/chat/search", {"keyword": "x", "chat_type": 0}, 40000),
    ("get", "/chat/search", {"keyword": "x", "target_id": "1; DROP TABLE chat_message"}, 40000),
    ("get", "/chat/search", {"keyword": "x", "before_id": str(BIG)}, 40000),
    ("get", "/chat/search", {"keyword": "x", "limit": 0}, 40000),
    ("get", "/chat/search", {"keyword": "x", "after": str(BIG)}, 40000),
    ("get", "/chat/search", {"keyword": "x", "type": "text"}, 40000),
    (
        "get",
        "/chat/search",
        lambda w: {"keyword": "x", "chat_type": 1, "target_id": w["group"]},
        40003,
    ),
    ("get", "/chat/search", {"keyword": "x", "chat_type": 1, "target_id": 10**12}, 40004),
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


# --- Hostile bodies and queries, refused at the request's entry (CONTRACT 12) -----------------
# imserver/api/request_limits.py refuses them before authentication or any view; what a view's
# parser meets later (a multipart form) is shaped by the one exception handler.

MIB = 1024 * 1024
SURROGATE = "\ud800"  # json.dumps spells it as the escape "\\ud800"


def nested(depth: int) -> str:
    """A JSON object ``depth`` levels deep, the outer one counting as level 1."""
    return '{"a": ' * (depth - 1) + "{}" + "}" * (depth - 1)


def assert_refused(response, status: int = 400, code: int = 40000) -> dict:
    """The answer is ``status`` with the failure envelope as JSON (never an HTML page)."""
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == code and isinstance(body["message"], str), body
    return body


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request, settings) -> bool:
    """Every test using it runs with DEBUG off and on: the envelope either way."""
    settings.DEBUG = request.param
    return request.param


def post_json(client, path: str, raw: str | bytes, method: str = "POST", **extra):
    return client.generic(method, path, raw, content_type="application/json", **extra)


def test_json_nested_32_levels_is_accepted_33_refused(make_user, debug):
    make_user("alice")
    login = '{"username": "alice", "password": "secret123", "pad": %s}'
    accepted = post_json(APIClient(), "/login", login % nested(31))
    assert accepted.json()["code"] == 20000
    body = assert_refused(post_json(APIClient(), "/login", login % nested(32)))
    assert body["message"] == "参数错误: 请求体嵌套超过 32 层"


@pytest.mark.parametrize("raw", ["[" * 5000 + "]" * 5000, '{"a": ' + "[" * 100_000])
def test_json_nested_thousands_deep_is_40000_on_any_endpoint(world, client_for, debug, raw):
    client = client_for(world["alice"])
    before = snapshot()
    for method, path in [("POST", "/chat/send"), ("POST", "/register"), ("GET", "/user/profile")]:
        assert_refused(post_json(client, path, raw, method=method))
    assert snapshot() == before


@pytest.mark.parametrize("raw", ["5", "null", "[]", '"x"', "true", "1.5"])
@pytest.mark.parametrize("where", ["body", "body-and-query"])
def test_friend_delete_with_a_body_that_is_no_object_is_40000(world, client_for, debug, raw, where):
    client = client_for(world["alice"])
    path = "/friend/delete" + (f"?friend_id={world['bob'].pk}" if where == "body-and-query" else "")
    before = snapshot()
    body = assert_refused(post_json(client, path, raw, method="DELETE"))
    assert body["message"] == "参数错误: 请求体必须是 JSON 对象"
    assert snapshot() == before


@pytest.mark.parametrize(
    "raw", [b'{"content": "\xff"}', b'{"content": "\xed\xa0\x80"}', '{"a": 1}'.encode("utf-16")]
)
def test_json_body_that_is_not_utf8_is_40000(world, client_for, debug, raw):
    body = assert_refused(post_json(client_for(world["alice"]), "/chat/send", raw))
    assert body["message"] == "参数错误: 请求体不是有效的 UTF-8"


@pytest.mark.parametrize(
    ("path", "payload", "field"),
    [
        ("/chat/send", {"to_user_id": "bob", "chat_type": SURROGATE, "content": "x"}, "chat_type"),
        ("/chat/send", {"to_user_id": "bob", "chat_type": 0, "content": SURROGATE}, "content"),
        ("/friend/request/handle", {"request_id": "pending", "action": SURROGATE}, "action"),
        ("/group/set/role", {"group_id": "group", "user_id": "alice", "role": SURROGATE}, "role"),
        ("/group/create", {"group_name": "ok" + SURROGATE}, "group_name"),
        ("/group/invite", {"group_id": "group", "user_ids": [1, SURROGATE]}, "user_ids[1]"),
        ("/register", {"username": {"nick": SURROGATE}}, "username.nick"),
        ("/login", {"username": "alice", "password": "x", SURROGATE: 1}, None),
    ],
)
def test_lone_surrogate_in_any_string_is_40000_naming_the_field(
    world, client_for, debug, path, payload, field
):
    def resolved(value):
        if isinstance(value, str) and value in world:
            return world[value] if isinstance(world[value], int) else world[value].pk
        return value

    raw = json.dumps({key: resolved(value) for key, value in payload.items()})
    assert "\\ud800" in raw
    client = client_for(world["alice"])
    before = snapshot()
    body = assert_refused(post_json(client, path, raw))
    if field:
        assert body["message"] == f"参数错误: {field}: 无效的 Unicode 字符"
    else:
        assert body["message"] == "参数错误: 请求体包含无效的 Unicode 字符"
    assert snapshot() == before


def test_refusals_are_in_english_with_accept_language_en(world, client_for):
    client = client_for(world["alice"])
    raw = json.dumps({"chat_type": SURROGATE})
    response = post_json(client, "/chat/send", raw, HTTP_ACCEPT_LANGUAGE="en")
    assert response.json()["message"] == "Invalid parameter: chat_type: invalid Unicode"
    response = client.get("/user/profile?" + "&".join(["a=1"] * 1001), HTTP_ACCEPT_LANGUAGE="en")
    assert response.json()["message"] == "Invalid parameter: more than 1000 query parameters"


def test_a_message_quoting_a_lone_surrogate_is_still_rendered():
    from imserver.api.errors import error_body

    assert error_body(40000, "x: \ud800 不是有效选项") == {
        "code": 40000,
        "message": "x: \\ud800 不是有效选项",
    }


def test_body_of_exactly_1_mib_is_accepted_one_byte_more_is_413(make_user, debug):
    make_user("alice")
    head, tail = '{"username": "alice", "password": "secret123", "pad": "', '"}'
    exact = head + "x" * (MIB - len(head) - len(tail)) + tail
    assert len(exact.encode()) == MIB
    assert post_json(APIClient(), "/login", exact).json()["code"] == 20000
    over = exact.replace('"pad": "', '"pad": "x', 1)
    body = assert_refused(post_json(APIClient(), "/login", over), status=413)
    assert body["message"] == "参数错误: 请求体不能超过 1048576 字节"


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "multipart/form-data"])
def test_declared_length_over_the_limit_is_413_before_the_body_is_read(debug, content_type):
    # 2 GB declared, a few bytes sent: the answer cannot have waited for the body.
    response = APIClient().generic(
        "POST", "/login", b"{}", content_type=content_type, CONTENT_LENGTH=str(2**31)
    )
    assert_refused(response, status=413)


def test_upload_accepts_its_limit_plus_form_overhead_and_no_more(world, client_for, settings):
    from files.uploads import MULTIPART_OVERHEAD_BYTES
    from imserver.api.request_limits import max_body_bytes

    client = client_for(world["alice"])
    limit = settings.IM_MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD_BYTES
    multipart = "multipart/form-data; boundary=xyz"

    def declared(length: int, content_type: str = multipart):
        return client.generic(
            "POST",
            "/file/upload",
            b"--xyz--\r\n",
            content_type=content_type,
            CONTENT_LENGTH=str(length),
        )

    body = assert_refused(declared(limit + 1), status=413)
    assert body["message"] == "参数错误: file: 文件大小不能超过 50 MiB"
    # At the limit the entry lets it through (the parser then counts the real bytes).
    assert max_body_bytes("POST", "/file/upload", multipart) == limit
    # Only a multipart upload gets the upload's limit; JSON to the same path gets 1 MiB.
    assert_refused(declared(MIB + 1, "application/json"), status=413)


def test_body_limits_stay_on_without_rate_limits(settings):
    settings.IM_THROTTLE = False
    response = post_json(APIClient(), "/login", b"{}", CONTENT_LENGTH=str(MIB + 1))
    assert_refused(response, status=413)


def test_body_limit_is_a_setting(settings, make_user):
    settings.IM_MAX_BODY_BYTES = 100
    raw = '{"username": "alice", "password": "secret123", "pad": "%s"}' % ("x" * 100)
    body = assert_refused(post_json(APIClient(), "/login", raw), status=413)
    assert body["message"] == "参数错误: 请求体不能超过 100 字节"


@pytest.mark.parametrize("path", ["/search", "/user/profile", "/login", "/nope"])
def test_over_1000_query_parameters_is_40000_also_unauthenticated(debug, path):
    query = "&".join(f"p{i}=1" for i in range(2000))
    body = assert_refused(APIClient().get(f"{path}?{query}"))
    assert body["message"] == "参数错误: 查询参数超过 1000 个"


def test_1000_query_parameters_are_accepted(world, client_for):
    query = "&".join(f"p{i}=1" for i in range(1000))
    assert client_for(world["alice"]).get(f"/user/profile?{query}").json()["code"] == 20000


def test_over_1000_form_fields_is_40000_also_unauthenticated(debug):
    form = "&".join(f"f{i}=1" for i in range(2000))
    response = APIClient().generic(
        "POST", "/login", form, content_type="application/x-www-form-urlencoded"
    )
    body = assert_refused(response)
    assert body["message"] == "参数错误: 表单字段超过 1000 个"


def test_form_refusals_a_view_meets_go_through_the_exception_handler(
    world, client_for, debug, settings
):
    # A multipart body is parsed by the view, not at the entry: Django's TooManyFieldsSent and
    # RequestDataTooBig (its fields over DATA_UPLOAD_MAX_MEMORY_SIZE) reach the one handler.
    from django.test.client import encode_multipart

    client = client_for(world["alice"])
    multipart = "multipart/form-data; boundary=b"
    many = encode_multipart("b", {f"f{i}": "1" for i in range(1001)})
    body = assert_refused(client.generic("POST", "/group/create", many, content_type=multipart))
    assert body["message"] == "参数错误: 表单字段超过 1000 个"
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    big = encode_multipart("b", {"group_name": "g", "description": "d" * 2000})
    body = assert_refused(
        client.generic("POST", "/group/create", big, content_type=multipart), status=413
    )
    assert body["message"] == "参数错误: 请求体不能超过 1000 字节"


@pytest.mark.parametrize("query", ["keyword=%ED%A0%80", "keyword=%FF", "keyword=%C3"])
def test_query_string_that_is_not_utf8_is_40000(world, client_for, debug, query):
    body = assert_refused(client_for(world["alice"]).get(f"/search?{query}"))
    assert body["message"] == "参数错误: 查询字符串不是有效的 UTF-8"


def test_replacement_character_itself_is_a_valid_query(world, client_for):
    response = client_for(world["alice"]).get("/search?keyword=%EF%BF%BD")
    assert response.json()["code"] == 20000


@pytest.fixture
def stored_file(world, client_for, settings, tmp_path) -> str:
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path},
        },
    }
    part = SimpleUploadedFile("a.bin", b"0123456789", content_type="application/octet-stream")
    response = client_for(world["alice"]).post("/file/upload", {"file": part}, format="multipart")
    return response.json()["data"]["file_id"]


@pytest.mark.parametrize(
    ("header", "status", "content"),
    [
        ("bytes=" + "9" * 5000 + "-", 416, None),
        ("bytes=" + "0" * 5000 + "1-", 206, b"123456789"),
        ("bytes=2-" + "9" * 5000, 206, b"23456789"),
        ("bytes=-" + "9" * 5000, 206, b"0123456789"),
        ("bytes=" + "9" * 5000 + "-" + "9" * 5000, 416, None),
    ],
)
def test_range_with_thousands_of_digits_is_416_or_honoured(
    world, client_for, stored_file, debug, header, status, content
):
    response = client_for(world["alice"]).get(
        "/file/download", {"file_id": stored_file}, HTTP_RANGE=header
    )
    if content is None:
        assert_refused(response, status=416)
        assert response["Content-Range"] == "bytes */10"
    else:
        assert response.status_code == status
        assert b"".join(response.streaming_content) == content


def test_upload_path_of_the_limits_is_the_upload_view():
    from django.urls import resolve

    from files.uploads import UPLOAD_PATH

    match = resolve(UPLOAD_PATH)
    assert match.func.cls.__name__ == "FileViewSet" and match.func.actions == {"post": "upload"}


# --- Generated sweep: every operation of the OpenAPI schema ----------------------------------


def schema_operations() -> list[tuple[str, str, list[str], list[str]]]:
    """(method, path, request body fields, query parameters) of every documented operation."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema.get("components", {}).get("schemas", {})

    def fields_of(body_schema: dict) -> list[str]:
        if "$ref" in body_schema:
            body_schema = components[body_schema["$ref"].rsplit("/", 1)[1]]
        return list(body_schema.get("properties", {}))

    operations = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            fields = sorted({f for media in content.values() for f in fields_of(media["schema"])})
            query = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
            operations.append((method.upper(), path, fields, query))
    return operations


OPERATIONS = schema_operations()


def hostile_requests(method: str, path: str, fields: list[str], query: list[str]):
    """(what, kwargs of Client.generic) for each hostile request one operation receives."""
    yield "nested 33 deep", {"data": nested(33)}
    yield "nested 5000 deep", {"data": "[" * 5000 + "]" * 5000}
    for raw in ("5", "null", '["a"]', '"text"'):
        yield f"non-object {raw}", {"data": raw}
    # A lone surrogate in every field of the request body, alone and beside valid-looking ones,
    # and in every query parameter (percent-encoded, the only way a query can carry one).
    for field in fields or ["unknown"]:
        yield f"surrogate in {field}", {"data": json.dumps({field: SURROGATE})}
        others = {other: 1 for other in fields if other != field}
        yield (
            f"surrogate in {field} among others",
            {"data": json.dumps({**others, field: ["x", SURROGATE]})},
        )
    for name in query or ["unknown"]:
        yield f"surrogate in query {name}", {"path": f"{path}?{name}=%ED%A0%80"}
    yield "body over the limit", {"data": '{"a": "' + "x" * MIB + '"}'}
    yield "2 GB declared", {"data": b"{}", "CONTENT_LENGTH": str(2**31)}
    yield (
        "2 GB multipart declared",
        {
            "data": b"",
            "content_type": "multipart/form-data; boundary=x",
            "CONTENT_LENGTH": "2" * 10,
        },
    )
    many = "&".join(f"{(query or ['p'])[i % len(query or ['p'])]}={i}" for i in range(2000))
    yield "2000 query parameters", {"path": f"{path}?{many}"}
    yield (
        "2000 form fields",
        {"data": many, "content_type": "application/x-www-form-urlencoded"},
    )


@pytest.mark.parametrize(
    ("method", "path", "fields", "query"),
    OPERATIONS,
    ids=[f"{m} {p}" for m, p, _f, _q in OPERATIONS],
)
def test_every_operation_refuses_hostile_input_with_a_4xx_envelope(
    world, client_for, debug, method, path, fields, query
):
    client = client_for(world["alice"])
    before = snapshot()
    failures = []
    for what, request in hostile_requests(method, path, fields, query):
        kwargs = {"content_type": "application/json", **request}
        target = kwargs.pop("path", path)
        data = kwargs.pop("data", "")
        response = client.generic(method, target, data, **kwargs)
        try:
            assert 400 <= response.status_code < 500
            assert response["Content-Type"] == "application/json"
            body = response.json()
            assert body["code"] == 40000 and body["message"].startswith("参数错误")
        except (AssertionError, ValueError, KeyError):
            failures.append(f"{what}: {response.status_code} {response.content[:200]!r}")
    assert not failures, "\n".join(failures)
    assert snapshot() == before


def test_the_sweep_covers_every_documented_operation():
    assert len(OPERATIONS) >= 50
    assert ("DELETE", "/friend/delete") in {(m, p) for m, p, _f, _q in OPERATIONS}
    assert any(fields for _m, _p, fields, _q in OPERATIONS if _p == "/chat/send")
