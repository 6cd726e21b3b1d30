"""Replies (CONTRACT 10): ``reply_to`` on a send quotes a message of the same conversation."""

import pytest

from chat import services
from chat.models import Message
from tests.chat.conftest import ok
from tests.chat.test_file_messages import _local_storage, upload  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db

QUOTE_FIELDS = {"message_id", "seq", "sender_id", "type", "content", "status"}


@pytest.fixture
def pair(actor, befriend):
    a, b = actor("alice"), actor("bob")
    befriend(a, b)
    return a, b


def test_a_reply_quotes_the_message_in_the_answer_the_push_and_history(
    pair, push_recorder, django_capture_on_commit_callbacks
):
    a, b = pair
    original = a.send_to_user(b, "lunch?")
    push_recorder.listen(a.id, b.id)
    with django_capture_on_commit_callbacks(execute=True):
        reply = b.send_to_user(a, "yes", reply_to=original["id"])
    quote = {
        "message_id": original["id"],
        "seq": 1,
        "sender_id": a.id,
        "type": 0,
        "content": "lunch?",
        "status": 1,
    }
    assert reply["reply_to"] == quote
    assert set(reply["reply_to"]) == QUOTE_FIELDS
    for user_id in (a.id, b.id):
        [event] = push_recorder.events(user_id)
        assert event["data"]["reply_to"] == quote
    messages = a.history(b.id, 0)["messages"]
    assert [m["reply_to"] for m in messages] == [None, quote]


def test_the_quote_shows_the_message_as_it_is_now(pair):
    a, b = pair
    original = a.send_to_user(b, "x" * 300)
    reply = b.send_to_user(a, "ok", reply_to=original["id"])
    assert reply["reply_to"]["content"] == "x" * 200
    ok(a.post("/chat/message/recall", {"message_id": original["id"]}))
    [_original, listed] = b.history(a.id, 0)["messages"]
    assert listed["id"] == reply["id"]
    assert (listed["reply_to"]["status"], listed["reply_to"]["content"]) == (2, "")


def test_a_long_quote_is_cut_at_200_code_points_without_an_ellipsis(pair):
    a, b = pair
    text = "你好😀" * 100  # 300 code points, some outside the BMP
    original = a.send_to_user(b, text)
    reply = b.send_to_user(a, "嗯", reply_to=original["id"])
    assert reply["reply_to"]["content"] == text[:200]


def test_a_recalled_message_may_be_replied_to(pair):
    a, b = pair
    original = a.send_to_user(b, "oops")
    ok(a.post("/chat/message/recall", {"message_id": original["id"]}))
    reply = b.send_to_user(a, "what was that?", reply_to=original["id"])
    assert reply["reply_to"]["status"] == 2
    assert reply["reply_to"]["content"] == ""


@pytest.mark.usefixtures("_local_storage")
def test_the_quote_of_a_file_message_has_its_file_id_as_content(pair):
    a, b = pair
    file_id = upload(a)
    picture = ok(
        a.post("/chat/send", {"to_user_id": b.id, "chat_type": 0, "type": 1, "content": file_id})
    )
    reply = b.send_to_user(a, "nice", reply_to=picture["id"])
    assert reply["reply_to"]["type"] == 1
    assert reply["reply_to"]["content"] == file_id


def test_unknown_and_invisible_messages_are_40004_before_the_conversation_is_checked(
    pair, actor, befriend
):
    a, b = pair
    carol = actor("carol")
    befriend(b, carol)
    elsewhere = b.send_to_user(carol, "not for alice")
    for reply_to in (elsewhere["id"], 10**9):
        response = a.post(
            "/chat/send",
            {"to_user_id": b.id, "chat_type": 0, "type": 0, "content": "x", "reply_to": reply_to},
        )
        assert response.json()["code"] == 40004
    assert not Message.objects.filter(sender=a.user).exists()


def test_a_message_of_another_visible_conversation_is_40000(pair, actor, befriend):
    a, b = pair
    carol = actor("carol")
    befriend(a, carol)
    with_carol = a.send_to_user(carol, "hi carol")
    response = a.post(
        "/chat/send",
        {
            "to_user_id": b.id,
            "chat_type": 0,
            "type": 0,
            "content": "x",
            "reply_to": with_carol["id"],
        },
    )
    body = response.json()
    assert body["code"] == 40000
    assert "reply_to" in body["message"]


def test_a_message_i_deleted_or_that_precedes_my_joining_is_invisible(actor, make_group):
    owner, member, late = actor("owner"), actor("member"), actor("late")
    group_id = make_group(owner, member)
    before = owner.send_to_group(group_id, "before late joined")
    ok(owner.post("/group/invite", {"group_id": group_id, "user_ids": [late.id]}))
    body = {"group_id": group_id, "chat_type": 1, "type": 0, "content": "re"}
    assert late.post("/chat/send", {**body, "reply_to": before["id"]}).json()["code"] == 40004
    ok(member.post("/chat/message/delete", {"message_id": before["id"]}))
    assert member.post("/chat/send", {**body, "reply_to": before["id"]}).json()["code"] == 40004
    reply = owner.send_to_group(group_id, "re", reply_to=before["id"])
    assert reply["reply_to"]["message_id"] == before["id"]


def test_a_group_reply_quotes_a_message_of_the_group(actor, make_group):
    owner, member = actor("owner"), actor("member")
    group_id = make_group(owner, member)
    question = owner.send_to_group(group_id, "who is in?")
    reply = member.send_to_group(group_id, "me", reply_to=question["id"])
    assert reply["reply_to"]["sender_id"] == owner.id
    [_question, listed] = owner.history(group_id, 1)["messages"]
    assert listed["reply_to"] == reply["reply_to"]


@pytest.mark.parametrize("reply_to", [0, -1, "abc", 1.5, True, [1], {"id": 1}, 2**63])
def test_a_malformed_reply_to_is_40000_naming_it(pair, reply_to):
    a, b = pair
    response = a.post(
        "/chat/send",
        {"to_user_id": b.id, "chat_type": 0, "type": 0, "content": "x", "reply_to": reply_to},
    )
    body = response.json()
    assert body["code"] == 40000
    assert "reply_to" in body["message"]


def test_reply_to_null_is_a_plain_send(pair):
    a, b = pair
    message = a.send_to_user(b, "x", reply_to=None)
    assert message["reply_to"] is None


def test_the_service_takes_the_quote_under_the_send(pair):
    a, b = pair
    original = a.send_to_user(b, "q")
    message = services.message_send(
        sender=b.user, chat_type=0, target_id=a.id, type=0, content="a", reply_to=original["id"]
    )
    assert message.reply_to_id == original["id"]
