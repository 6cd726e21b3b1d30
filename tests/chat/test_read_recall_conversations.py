from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from chat.models import Message
from tests.chat.conftest import ok

pytestmark = pytest.mark.django_db

CONVERSATION_FIELDS = {
    "id",
    "user_id",
    "target_id",
    "type",
    "last_message_id",
    "last_message",
    "last_message_time",
    "create_at",
    "update_at",
    "target_name",
    "target_avatar",
    "unread_count",
    "is_pinned",
    "last_seq",
    "read_seq",
    "mention_count",
    "is_muted",
}


@pytest.fixture
def pair(actor, befriend):
    a, b = actor("alice"), actor("bob", avatar="https://e.com/b.png")
    befriend(a, b)
    return a, b


def test_unread_counts_and_read_receipts(pair, push_recorder, django_capture_on_commit_callbacks):
    a, b = pair
    for _ in range(3):
        a.send_to_user(b)
    [entry] = b.conversations()
    assert (entry["unread_count"], entry["last_seq"], entry["read_seq"]) == (3, 3, 0)
    assert a.conversations()[0]["unread_count"] == 0  # my own messages are never unread

    push_recorder.listen(a.id, b.id)
    with django_capture_on_commit_callbacks(execute=True):
        assert ok(b.post("/chat/read", {"target_id": a.id, "chat_type": 0})) == {"read_seq": 3}
    receipt = {"user_id": b.id, "target_id": a.id, "chat_type": 0, "read_seq": 3}
    assert push_recorder.events(a.id) == [{"type": "read", "data": receipt}]
    assert push_recorder.events(b.id) == [{"type": "read", "data": receipt}]
    assert b.conversations()[0]["unread_count"] == 0


def test_group_read_pushes_to_my_devices_only(
    actor, make_group, push_recorder, django_capture_on_commit_callbacks
):
    owner, member = actor("owner"), actor("member")
    group_id = make_group(owner, member)
    owner.send_to_group(group_id)
    push_recorder.listen(owner.id, member.id)
    with django_capture_on_commit_callbacks(execute=True):
        ok(member.post("/chat/read", {"target_id": group_id, "chat_type": 1}))
    assert [e["type"] for e in push_recorder.events(member.id)] == ["read"]
    assert push_recorder.events(owner.id) == []


def test_read_refusals(pair, actor):
    a, _b = pair
    assert a.post("/chat/read", {"target_id": 999999, "chat_type": 0}).json()["code"] == 40004
    assert a.post("/chat/read", {"target_id": 1, "chat_type": 7}).json()["code"] == 40000


def test_recall_rules(pair, push_recorder, django_capture_on_commit_callbacks):
    a, b = pair
    message = a.send_to_user(b, "oops")
    assert b.post("/chat/message/recall", {"message_id": message["id"]}).json()["code"] == 40003
    push_recorder.listen(a.id, b.id)
    with django_capture_on_commit_callbacks(execute=True):
        ok(a.post("/chat/message/recall", {"message_id": message["id"]}))
    for user_id in (a.id, b.id):
        [event] = push_recorder.events(user_id)
        assert event["type"] == "recall"
        assert event["data"]["message_id"] == message["id"]
    # Repeating succeeds without change or push.
    with django_capture_on_commit_callbacks(execute=True):
        again = ok(a.post("/chat/message/recall", {"message_id": message["id"]}))
    assert again["status"] == 2 and push_recorder.events(b.id) == []
    assert b.conversations()[0]["last_message"] == "[消息已撤回]"


@override_settings(IM_RECALL_WINDOW_S=120)
def test_recall_window_and_group_managers(actor, make_group, pair):
    a, b = pair
    old = a.send_to_user(b)
    Message.objects.filter(pk=old["id"]).update(created_at=timezone.now() - timedelta(seconds=121))
    response = a.post("/chat/message/recall", {"message_id": old["id"]})
    assert (response.status_code, response.json()["code"]) == (403, 40003)

    owner, admin, member, other = actor("owner"), actor("admin"), actor("member"), actor("other")
    group_id = make_group(owner, admin, member, other)
    ok(owner.post("/group/set/role", {"group_id": group_id, "user_id": admin.id, "role": 1}))
    first = member.send_to_group(group_id)
    second = member.send_to_group(group_id)
    Message.objects.filter(pk__in=[first["id"], second["id"]]).update(
        created_at=timezone.now() - timedelta(days=3)
    )
    assert other.post("/chat/message/recall", {"message_id": first["id"]}).json()["code"] == 40003
    assert ok(admin.post("/chat/message/recall", {"message_id": first["id"]}))["status"] == 2
    assert ok(owner.post("/chat/message/recall", {"message_id": second["id"]}))["status"] == 2


def test_conversation_list_fields_previews_and_order(pair, actor, befriend, make_group):
    a, b = pair
    c = actor("carol")
    befriend(a, c)
    ok(a.client.put("/friend/remark", {"user_id": c.id, "remark": "Caz"}, format="json"))
    a.send_to_user(b, "first")
    group_id = make_group(a, b, name="crew")
    b.send_to_group(group_id, "group says hi")
    c.send_to_user(a, "latest")

    items = a.conversations()
    assert all(set(item) == CONVERSATION_FIELDS for item in items)
    assert [(i["type"], i["target_id"]) for i in items] == [(0, c.id), (1, group_id), (0, b.id)]
    assert [i["target_name"] for i in items] == ["Caz", "crew", "bob"]
    assert items[2]["target_avatar"] == "https://e.com/b.png"
    assert [i["last_message"] for i in items] == ["latest", "group says hi", "first"]
    assert [i["unread_count"] for i in items] == [1, 1, 0]

    ok(a.post("/chat/conversation/pin", {"target_id": b.id, "chat_type": 0, "is_pinned": True}))
    items = a.conversations()
    assert (items[0]["target_id"], items[0]["is_pinned"]) == (b.id, True)


def test_non_text_previews(pair):
    a, b = pair
    message = a.send_to_user(b, "x")
    Message.objects.filter(pk=message["id"]).update(type=Message.Type.AUDIO)
    assert a.conversations()[0]["last_message"] == "[语音]"


def test_delete_conversation_hides_clears_and_revives(pair):
    a, b = pair
    a.send_to_user(b, "old")
    [entry] = b.conversations()
    assert ok(b.post("/chat/conversation/delete", {"conversation_id": str(entry["id"])})) is None
    assert b.conversations() == []
    assert b.history(a.id, 0)["messages"] == []
    a.send_to_user(b, "new")
    [revived] = b.conversations()
    assert (revived["last_message"], revived["unread_count"]) == ("new", 1)
    assert [m["content"] for m in b.history(a.id, 0)["messages"]] == ["new"]
    assert [m["content"] for m in a.history(b.id, 0)["messages"]] == ["old", "new"]


def test_delete_conversation_by_target_and_refusals(pair, actor):
    a, b = pair
    a.send_to_user(b)
    ok(a.post("/chat/conversation/delete", {"target_id": b.id, "chat_type": 0}))
    assert a.conversations() == []
    b_entry = b.conversations()[0]["id"]
    stolen = a.post("/chat/conversation/delete", {"conversation_id": b_entry})
    assert (stolen.status_code, stolen.json()["code"]) == (404, 40004)
    assert (
        a.post("/chat/conversation/delete", {"conversation_id": "conv123"}).json()["code"] == 40000
    )
    assert a.post("/chat/conversation/delete", {}).json()["code"] == 40000


def test_pin_creates_the_entry_and_validates(pair, actor, make_group):
    a, b = pair
    ok(a.post("/chat/conversation/pin", {"target_id": b.id, "chat_type": 0, "is_pinned": True}))
    [entry] = a.conversations()
    assert (entry["is_pinned"], entry["last_message"], entry["last_message_id"]) == (True, "", None)
    outsider_group = make_group(actor("owner2"))
    refused = a.post(
        "/chat/conversation/pin", {"target_id": outsider_group, "chat_type": 1, "is_pinned": True}
    )
    assert refused.json()["code"] == 40003
    assert (
        a.post("/chat/conversation/pin", {"target_id": b.id, "chat_type": 0}).json()["code"]
        == 40000
    )


def test_left_and_dismissed_groups_leave_the_list(actor, make_group):
    owner, member = actor("owner"), actor("member")
    group_id = make_group(owner, member)
    owner.send_to_group(group_id)
    assert len(member.conversations()) == 1
    ok(member.post("/group/leave", {"group_id": group_id}))
    assert member.conversations() == []
    ok(owner.post("/group/dismiss", {"group_id": group_id}))
    assert owner.conversations() == []


def test_conversation_list_does_a_constant_number_of_queries(
    actor, befriend, make_group, django_assert_max_num_queries
):
    me = actor("me")

    def grow(n: int) -> None:
        for _ in range(n):
            peer = actor()
            befriend(me, peer)
            peer.send_to_user(me)
            me.send_to_group(make_group(me, peer))

    grow(2)
    with django_assert_max_num_queries(5):
        assert len(me.conversations()) == 4
    grow(10)
    with django_assert_max_num_queries(5):
        assert len(me.conversations()) == 24
