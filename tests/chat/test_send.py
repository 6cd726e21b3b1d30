import pytest
from django.test import override_settings

from chat.models import Message
from tests.chat.conftest import ok

pytestmark = pytest.mark.django_db

# CONTRACT 10: on every message object, with these values when unused.
FEATURE_DEFAULTS = {
    "reply_to": None,
    "mentions": [],
    "mention_all": False,
    "reactions": [],
    "edited_at": None,
    "forwarded": False,
}
FEATURE_FIELDS = set(FEATURE_DEFAULTS)

MESSAGE_FIELDS = {
    "id",
    "seq",
    "from_user_id",
    "to_user_id",
    "group_id",
    "chat_type",
    "type",
    "content",
    "status",
    "create_at",
    "client_msg_id",
    "from_nickname",
    "from_avatar",
    "file",
    *FEATURE_FIELDS,
}
PUSH_FIELDS = {
    "message_id",
    "sender_id",
    "receiver_id",
    "receiver_type",
    "content",
    "message_type",
    "timestamp",
    "seq",
    "chat_type",
    "group_id",
    "client_msg_id",
    "file",
    *FEATURE_FIELDS,
}


@pytest.fixture
def pair(actor, befriend):
    a, b = actor("alice"), actor("bob")
    befriend(a, b)
    return a, b


def test_private_send_returns_the_message_and_pushes_to_both(
    pair, push_recorder, django_capture_on_commit_callbacks
):
    a, b = pair
    push_recorder.listen(a.id, b.id)
    with django_capture_on_commit_callbacks(execute=True):
        message = a.send_to_user(b, "hello")
    assert set(message) == MESSAGE_FIELDS
    assert (message["seq"], message["from_user_id"], message["to_user_id"]) == (1, a.id, b.id)
    assert (message["chat_type"], message["type"], message["status"]) == (0, 0, 1)
    assert (message["content"], message["group_id"], message["file"]) == ("hello", None, None)
    for user_id in (a.id, b.id):
        [event] = push_recorder.events(user_id)
        assert event["type"] == "message"
        assert set(event["data"]) >= PUSH_FIELDS
        assert event["data"]["message_id"] == message["id"]
        assert (event["data"]["receiver_id"], event["data"]["receiver_type"]) == (b.id, "user")
        assert event["data"]["message_type"] == "text"
        assert event["data"]["timestamp"].endswith("Z")


def test_alternate_form_and_numeric_strings(pair):
    a, b = pair
    body = {
        "receiver_id": str(b.id),
        "receiver_type": "user",
        "message_type": "text",
        "content": "hey",
    }
    message = ok(a.post("/chat/send", body))
    assert (message["to_user_id"], message["content"], message["seq"]) == (b.id, "hey", 1)


def test_seq_counts_per_conversation(pair, actor, befriend):
    a, b = pair
    c = actor("carol")
    befriend(a, c)
    assert [a.send_to_user(b)["seq"] for _ in range(3)] == [1, 2, 3]
    assert b.send_to_user(a)["seq"] == 4
    assert a.send_to_user(c)["seq"] == 1


def test_client_msg_id_makes_retries_idempotent(pair):
    a, b = pair
    first = a.send_to_user(b, "once", client_msg_id="c-1")
    again = a.send_to_user(b, "once", client_msg_id="c-1")
    assert again == first
    assert Message.objects.count() == 1
    # Another sender may use the same client id.
    assert b.send_to_user(a, "x", client_msg_id="c-1")["id"] != first["id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"to_user_id": "X", "type": 0, "content": "a", "chat_type": 0}, "to_user_id"),
        ({"type": 0, "content": "a", "chat_type": 0}, "to_user_id"),
        ({"type": 0, "content": "a", "chat_type": 1}, "group_id"),
        ({"type": 0, "content": "a"}, "chat_type"),
        ({"to_user_id": 1, "type": 9, "content": "a", "chat_type": 0}, "type"),
        ({"to_user_id": 1, "type": 0, "content": "a", "chat_type": 5}, "chat_type"),
        ({"to_user_id": 1, "type": 0, "chat_type": 0}, "content"),
        ({"to_user_id": 1, "type": 0, "content": "   ", "chat_type": 0}, "content"),
        ({"to_user_id": 1, "type": 0, "content": "x" * 5001, "chat_type": 0}, "content"),
        (
            {"to_user_id": 1, "content": "a", "chat_type": 0, "client_msg_id": "c" * 65},
            "client_msg_id",
        ),
        ({"receiver_id": 1, "receiver_type": "room", "content": "a"}, "receiver_type"),
        (
            {"receiver_id": 1, "receiver_type": "user", "message_type": "gif", "content": "a"},
            "message_type",
        ),
        ({"receiver_type": "user", "content": "a"}, "receiver_id"),
    ],
)
def test_bad_input_is_40000_naming_the_field(pair, body, field):
    a, _b = pair
    response = a.post("/chat/send", body)
    assert (response.status_code, response.json()["code"]) == (400, 40000)
    assert field in response.json()["message"]
    assert not Message.objects.exists()


def test_text_limits(pair):
    a, b = pair
    assert len(a.send_to_user(b, "x" * 5000)["content"]) == 5000
    assert a.send_to_user(b, "  padded  ")["content"] == "padded"


def test_private_refusals(actor, pair, befriend):
    a, b = pair
    stranger = actor("stranger")
    assert (
        a.post("/chat/send", {"to_user_id": stranger.id, "content": "x", "chat_type": 0}).json()[
            "code"
        ]
        == 40003
    )
    assert (
        a.post("/chat/send", {"to_user_id": 999999, "content": "x", "chat_type": 0}).json()["code"]
        == 40004
    )
    assert (
        a.post("/chat/send", {"to_user_id": a.id, "content": "x", "chat_type": 0}).json()["code"]
        == 40000
    )
    ok(b.post("/friend/block", {"friend_id": a.id}))
    blocked = a.post("/chat/send", {"to_user_id": b.id, "content": "x", "chat_type": 0})
    assert (blocked.status_code, blocked.json()["code"]) == (403, 40003)
    assert not Message.objects.exists()


@override_settings(IM_REQUIRE_FRIENDSHIP=False)
def test_friendship_requirement_can_be_turned_off(actor):
    a, stranger = actor("alice"), actor("stranger")
    assert a.send_to_user(stranger)["seq"] == 1
    ok(stranger.post("/friend/block", {"friend_id": a.id}))
    response = a.post("/chat/send", {"to_user_id": stranger.id, "content": "x", "chat_type": 0})
    assert response.json()["code"] == 40003


def test_group_send_and_refusals(
    actor, make_group, push_recorder, django_capture_on_commit_callbacks
):
    owner, member, outsider = actor("owner"), actor("member"), actor("outsider")
    group_id = make_group(owner, member)
    push_recorder.listen(owner.id, member.id, outsider.id)
    with django_capture_on_commit_callbacks(execute=True):
        message = member.send_to_group(group_id, "hello all")
    assert (message["group_id"], message["to_user_id"], message["chat_type"]) == (group_id, None, 1)
    assert (message["from_nickname"], message["seq"]) == ("member", 1)
    assert [e["data"]["message_id"] for e in push_recorder.events(owner.id)] == [message["id"]]
    assert [e["data"]["message_id"] for e in push_recorder.events(member.id)] == [message["id"]]
    assert push_recorder.events(outsider.id) == []

    body = {"group_id": group_id, "content": "x", "chat_type": 1}
    assert outsider.post("/chat/send", body).json()["code"] == 40003
    assert outsider.post("/chat/send", {**body, "group_id": 999999}).json()["code"] == 40004

    ok(
        owner.post(
            "/group/mute/member", {"group_id": group_id, "user_id": member.id, "duration": 600}
        )
    )
    muted = member.post("/chat/send", body)
    assert (muted.status_code, muted.json()["code"]) == (403, 40003)
    assert "600" in muted.json()["message"] or "599" in muted.json()["message"]

    ok(owner.post("/group/dismiss", {"group_id": group_id}))
    assert owner.post("/chat/send", body).json()["code"] == 40004
