"""Forwarding a message (CONTRACT 10): a send of a copy, with the send's rules, push and
idempotency; a forwarded file becomes readable in the target conversation."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from chat.models import Message
from files.models import File
from tests.chat.conftest import ok
from tests.files.conftest import make_png

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _local_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media"},
        },
    }


def upload(actor, name: str = "pic.png") -> str:
    part = SimpleUploadedFile(name, make_png(), content_type="image/png")
    return ok(actor.client.post("/file/upload", {"file": part}, format="multipart"))["file_id"]


def forward(who, message_id, **target):
    return who.post("/chat/message/forward", {"message_id": message_id, **target})


def refused(response, code: int, field: str | None = None) -> dict:
    body = response.json()
    assert body["code"] == code, body
    if field is not None:
        assert field in body["message"], body
    return body


@pytest.fixture
def world(actor, befriend, make_group):
    """alice-bob and bob-carol are friends; bob and carol are in bob's group; dave is nobody's
    friend."""
    alice, bob, carol, dave = (actor(name) for name in ("alice", "bob", "carol", "dave"))
    befriend(alice, bob)
    befriend(bob, carol)
    group_id = make_group(bob, carol)
    return alice, bob, carol, dave, group_id


# --- what a forward creates ---------------------------------------------------------------------
def test_a_forward_is_a_new_message_of_the_forwarder_with_the_current_text(
    world, push_recorder, django_capture_on_commit_callbacks
):
    alice, bob, carol, _dave, group_id = world
    first = bob.send_to_user(alice, "earlier")
    source = alice.send_to_user(bob, "draft", reply_to=first["id"])
    ok(bob.post("/chat/message/react", {"message_id": source["id"], "emoji": "👍"}))
    ok(alice.post("/chat/message/edit", {"message_id": source["id"], "content": "final"}))
    push_recorder.listen(alice.id, bob.id, carol.id)
    with django_capture_on_commit_callbacks(execute=True):
        data = ok(forward(bob, source["id"], chat_type=1, target_id=group_id))
    assert data["id"] != source["id"]
    assert (data["from_user_id"], data["group_id"], data["chat_type"]) == (bob.id, group_id, 1)
    assert (data["type"], data["content"], data["status"]) == (0, "final", 1)
    assert (data["forwarded"], data["reply_to"], data["edited_at"]) == (True, None, None)
    assert (data["mentions"], data["mention_all"], data["reactions"]) == ([], False, [])
    assert data["seq"] == 1 and data["client_msg_id"] is None
    for who in (bob, carol):
        [event] = push_recorder.events(who.id)
        assert event["type"] == "message"
        assert event["data"]["message_id"] == data["id"]
        assert (event["data"]["forwarded"], event["data"]["content"]) == (True, "final")
        assert (event["data"]["receiver_id"], event["data"]["receiver_type"]) == (group_id, "group")
    assert push_recorder.events(alice.id, timeout=0.05) == []
    # a message like any other: in history, in the list, and the source is unchanged
    [in_history] = carol.history(group_id, 1)["messages"]
    assert in_history == data
    assert carol.conversations()[0]["last_message"] == "final"
    assert Message.objects.get(pk=source["id"]).forwarded is False


def test_a_forwarded_message_can_itself_be_forwarded_and_quoted(world):
    alice, bob, carol, _dave, group_id = world
    source = alice.send_to_user(bob, "chain")
    in_group = ok(forward(bob, source["id"], chat_type=1, target_id=group_id))
    again = ok(forward(carol, in_group["id"], chat_type=0, target_id=bob.id))
    assert (again["content"], again["forwarded"], again["to_user_id"]) == ("chain", True, bob.id)
    reply = carol.send_to_group(group_id, "nice", reply_to=in_group["id"])
    assert reply["reply_to"]["content"] == "chain" and reply["forwarded"] is False


def test_the_forms_of_the_target(world):
    alice, bob, carol, _dave, group_id = world
    source = alice.send_to_user(bob, "x")
    assert ok(forward(bob, source["id"], chat_type=0, target_id=carol.id))["to_user_id"] == carol.id
    assert ok(forward(bob, source["id"], to_user_id=carol.id))["to_user_id"] == carol.id
    assert ok(forward(bob, source["id"], group_id=group_id))["group_id"] == group_id
    assert ok(forward(bob, source["id"], chat_type=1, group_id=str(group_id)))["chat_type"] == 1
    ok(forward(bob, str(source["id"]), chat_type="0", target_id=str(carol.id)))
    refused(forward(bob, source["id"]), 40000, "target_id")
    refused(forward(bob, source["id"], target_id=carol.id), 40000, "chat_type")
    refused(forward(bob, source["id"], to_user_id=carol.id, group_id=group_id), 40000)
    refused(forward(bob, source["id"], chat_type=1, to_user_id=carol.id), 40000, "group_id")
    refused(forward(bob, source["id"], chat_type=2, target_id=carol.id), 40000, "chat_type")
    refused(forward(bob, None, chat_type=0, target_id=carol.id), 40000, "message_id")
    refused(forward(bob, source["id"], chat_type=0, target_id=0), 40000, "target_id")
    assert bob.get("/chat/message/forward").status_code == 405


# --- the rules ------------------------------------------------------------------------------------
def test_a_source_i_cannot_see_is_40004_before_the_target_is_looked_at(world, make_group):
    alice, bob, carol, dave, group_id = world
    source = alice.send_to_user(bob, "private")
    refused(forward(carol, source["id"], chat_type=1, target_id=group_id), 40004)
    refused(forward(carol, source["id"], chat_type=0, target_id=dave.id), 40004)  # not a friend
    refused(forward(bob, 99999999, chat_type=1, target_id=group_id), 40004)
    ok(bob.post("/chat/message/delete", {"message_id": source["id"]}))
    refused(forward(bob, source["id"], chat_type=1, target_id=group_id), 40004)
    # a group message from before I joined
    other_group = make_group(alice)
    old = alice.send_to_group(other_group, "old")
    ok(alice.post("/group/invite", {"group_id": other_group, "user_ids": [bob.id]}))
    refused(forward(bob, old["id"], chat_type=1, target_id=group_id), 40004)
    assert not Message.objects.filter(forwarded=True).exists()


def test_a_recalled_source_is_40003_before_the_target_is_looked_at(world):
    alice, bob, _carol, dave, group_id = world
    source = alice.send_to_user(bob, "oops")
    ok(alice.post("/chat/message/recall", {"message_id": source["id"]}))
    refused(forward(bob, source["id"], chat_type=1, target_id=group_id), 40003)
    refused(forward(bob, source["id"], chat_type=0, target_id=dave.id), 40003)
    refused(forward(alice, source["id"], chat_type=0, target_id=bob.id), 40003)
    assert not Message.objects.filter(forwarded=True).exists()


def test_the_target_follows_the_rules_and_codes_of_a_send(world, actor, make_group):
    alice, bob, carol, dave, group_id = world
    source = alice.send_to_user(bob, "x")
    refused(forward(bob, source["id"], chat_type=0, target_id=dave.id), 40003)  # not friends
    refused(forward(bob, source["id"], chat_type=0, target_id=bob.id), 40000)  # myself
    refused(forward(bob, source["id"], chat_type=0, target_id=99999999), 40004)
    refused(forward(alice, source["id"], chat_type=1, target_id=group_id), 40003)  # not a member
    refused(forward(bob, source["id"], chat_type=1, target_id=99999999), 40004)
    ok(carol.post("/friend/block", {"friend_id": bob.id}))
    refused(forward(bob, source["id"], chat_type=0, target_id=carol.id), 40003)  # blocked
    # muted in the group, then a dismissed group
    owner = actor("owner")
    other_group = make_group(owner, bob)
    mute = {"group_id": other_group, "user_id": bob.id, "duration": 600}
    ok(owner.post("/group/mute/member", mute))
    refused(forward(bob, source["id"], chat_type=1, target_id=other_group), 40003)
    ok(bob.post("/group/dismiss", {"group_id": group_id}))
    refused(forward(bob, source["id"], chat_type=1, target_id=group_id), 40004)
    assert not Message.objects.filter(forwarded=True).exists()
    # the sender may forward their own message, also into the same conversation
    again = ok(forward(alice, source["id"], chat_type=0, target_id=bob.id))
    assert (again["from_user_id"], again["seq"], again["forwarded"]) == (alice.id, 2, True)


# --- files ----------------------------------------------------------------------------------------
def test_a_forwarded_file_is_shared_with_the_target_conversation(world):
    alice, bob, carol, dave, group_id = world
    file_id = upload(alice, "photo.png")
    source = alice.send_to_user(bob, file_id, type=1)
    assert carol.get("/file/info", {"file_id": file_id}).json()["code"] == 40004
    assert carol.get("/file/download", {"file_id": file_id}).status_code == 404
    data = ok(forward(bob, source["id"], chat_type=1, target_id=group_id))  # bob did not upload it
    assert (data["type"], data["content"], data["file"]["file_id"]) == (1, file_id, file_id)
    assert data["file"]["user_id"] == alice.id
    assert ok(carol.get("/file/info", {"file_id": file_id}))["file_name"] == "photo.png"
    download = carol.get("/file/download", {"file_id": file_id})
    assert download.status_code == 200 and b"".join(download.streaming_content) == make_png()
    assert dave.get("/file/info", {"file_id": file_id}).json()["code"] == 40004
    # recalling the forward takes carol's access away again (her only message with the file)
    ok(bob.post("/chat/message/recall", {"message_id": data["id"]}))
    assert carol.get("/file/info", {"file_id": file_id}).json()["code"] == 40004
    # the source still shares it with bob
    assert ok(bob.get("/file/info", {"file_id": file_id}))["file_id"] == file_id


def test_an_expired_file_cannot_be_forwarded(world):
    alice, bob, _carol, dave, group_id = world
    file_id = upload(alice)
    source = alice.send_to_user(bob, file_id, type=2)
    File.objects.filter(pk=file_id).update(expire_at=timezone.now() - timedelta(seconds=1))
    refused(forward(bob, source["id"], chat_type=1, target_id=group_id), 40000, "message_id")
    # the file is looked at before the target
    refused(forward(bob, source["id"], chat_type=0, target_id=dave.id), 40000, "message_id")
    refused(forward(alice, source["id"], chat_type=0, target_id=bob.id), 40000, "message_id")
    assert not Message.objects.filter(forwarded=True).exists()


# --- client_msg_id --------------------------------------------------------------------------------
def test_a_repeated_forward_returns_the_first_one_and_pushes_once(
    world, push_recorder, django_capture_on_commit_callbacks
):
    alice, bob, carol, _dave, group_id = world
    source = alice.send_to_user(bob, "once")
    push_recorder.listen(carol.id)
    target = {"chat_type": 1, "target_id": group_id, "client_msg_id": "fw-1"}
    with django_capture_on_commit_callbacks(execute=True):
        first = ok(forward(bob, source["id"], **target))
        again = ok(forward(bob, source["id"], **target))
    assert again == first and first["client_msg_id"] == "fw-1"
    assert [event["type"] for event in push_recorder.events(carol.id)] == ["message"]
    assert Message.objects.filter(forwarded=True).count() == 1
    # still the first one once the source is edited, recalled, or deleted for me
    ok(alice.post("/chat/message/edit", {"message_id": source["id"], "content": "changed"}))
    assert ok(forward(bob, source["id"], **target)) == first
    ok(alice.post("/chat/message/recall", {"message_id": source["id"]}))
    assert ok(forward(bob, source["id"], **target)) == first
    ok(bob.post("/chat/message/delete", {"message_id": source["id"]}))
    assert ok(forward(bob, source["id"], **target)) == first
    assert Message.objects.filter(forwarded=True).count() == 1


def test_forwards_and_sends_share_the_client_msg_id_space(world):
    alice, bob, carol, _dave, group_id = world
    source = alice.send_to_user(bob, "shared")
    sent = bob.send_to_user(carol, "shared", client_msg_id="c-1")
    # a forward reusing a send's id, even with the same target and text
    refused(forward(bob, source["id"], chat_type=0, target_id=carol.id, client_msg_id="c-1"), 40009)
    # a send reusing a forward's id, even with the same target and text
    fw = ok(forward(bob, source["id"], chat_type=1, target_id=group_id, client_msg_id="c-2"))
    body = {"group_id": group_id, "chat_type": 1, "content": "shared", "client_msg_id": "c-2"}
    refused(bob.post("/chat/send", body), 40009)
    # the same id to another target
    refused(forward(bob, source["id"], chat_type=0, target_id=carol.id, client_msg_id="c-2"), 40009)
    assert Message.objects.filter(client_msg_id__in=["c-1", "c-2"]).count() == 2
    assert ok(bob.post("/chat/send", {**body, "client_msg_id": "c-3"}))["id"] > fw["id"]
    # another user's id space is their own
    assert ok(forward(alice, source["id"], to_user_id=bob.id, client_msg_id="c-2"))["forwarded"]
    assert sent["client_msg_id"] == "c-1"


def test_a_send_retried_after_an_edit_still_returns_the_first_message(world):
    """The retry of a send whose answer was lost, after the message was edited (from another
    device): the text as first sent still names it."""
    alice, bob, *_rest = world
    body = {"to_user_id": bob.id, "chat_type": 0, "content": "typo", "client_msg_id": "s-1"}
    first = ok(alice.post("/chat/send", body))
    ok(alice.post("/chat/message/edit", {"message_id": first["id"], "content": "fixed"}))
    again = ok(alice.post("/chat/send", body))
    assert (again["id"], again["content"]) == (first["id"], "fixed")
    refused(alice.post("/chat/send", {**body, "content": "other"}), 40009)


def test_forwards_count_as_messages_for_the_rate_limit(world, settings):
    """A forward sends a message: it spends the sender's message tokens as 8.1 does."""
    alice, bob, carol, *_rest = world
    source = alice.send_to_user(bob, "x")
    settings.IM_THROTTLE = True
    settings.IM_RATE_MESSAGES_PER_USER = "2/min"
    codes = [forward(bob, source["id"], to_user_id=carol.id).json()["code"] for _ in range(2)]
    assert codes == [20000, 20000]
    refused(forward(bob, source["id"], to_user_id=carol.id), 42900)
    refused(bob.post("/chat/send", {"to_user_id": carol.id, "chat_type": 0, "content": "x"}), 42900)
