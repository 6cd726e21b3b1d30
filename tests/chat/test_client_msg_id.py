"""``client_msg_id`` names one message of its sender (CONTRACT 12), over REST and the ``message``
frame of /ws; the permission check of a send runs inside the transaction that stores it
(chat/store.py), one send's refusal leaving the others of its batch stored."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import IntegrityError, transaction
from django.utils import timezone

from chat import permissions, selectors, store
from chat.frames import send_from_frame
from chat.models import ChatType, Conversation, Message
from imserver.api.errors import AppError
from imserver.asgi import application
from tests.chat.conftest import ok, pending_send
from tests.chat.test_file_messages import upload
from tests.realtime.conftest import Socket, access_token


@pytest.fixture
def trio(actor, befriend):
    """alice is friends with bob and with carol."""
    alice, bob, carol = actor("alice"), actor("bob"), actor("carol")
    befriend(alice, bob)
    befriend(alice, carol)
    return alice, bob, carol


def _send(sender, body: dict):
    return sender.post("/chat/send", body)


def _private(peer, content: str = "hi", **fields) -> dict:
    return {"to_user_id": peer.id, "type": 0, "content": content, "chat_type": 0, **fields}


def _refused_with(response, code: int, status: int) -> str:
    body = response.json()
    assert (response.status_code, body["code"]) == (status, code), body
    return body["message"]


# --- the same id: the same message, or 40009 ---------------------------------------------------
@pytest.mark.django_db
def test_the_same_id_target_and_content_returns_the_first_message(trio, make_group):
    alice, bob, _carol = trio
    first = alice.send_to_user(bob, "hello", client_msg_id="c-1")
    # The alternate request form and padded text ask for the same message.
    again = ok(
        _send(
            alice,
            {
                "receiver_id": bob.id,
                "receiver_type": "user",
                "content": " hello ",
                "client_msg_id": "c-1",
            },
        )
    )
    assert again == first
    group_id = make_group(alice, bob)
    in_group = alice.send_to_group(group_id, "all", client_msg_id="g-1")
    assert alice.send_to_group(group_id, "all", client_msg_id="g-1") == in_group
    assert Message.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    ["another peer", "another content", "another type", "a group", "the alternate form"],
)
def test_the_same_id_with_anything_else_is_40009_and_stores_nothing(trio, make_group, change):
    alice, bob, carol = trio
    group_id = make_group(alice, bob)
    first = alice.send_to_user(bob, "hello", client_msg_id="c-1")
    body = {
        "another peer": _private(carol, "hello", client_msg_id="c-1"),
        "another content": _private(bob, "hello again", client_msg_id="c-1"),
        "another type": _private(bob, "hello", type=2, client_msg_id="c-1"),
        "a group": {
            "group_id": group_id,
            "content": "hello",
            "chat_type": 1,
            "client_msg_id": "c-1",
        },
        "the alternate form": {
            "receiver_id": carol.id,
            "receiver_type": "user",
            "content": "hello",
            "client_msg_id": "c-1",
        },
    }[change]
    message = _refused_with(_send(alice, body), 40009, 409)
    assert "client_msg_id" in message
    assert list(Message.objects.values_list("pk", flat=True)) == [first["id"]]
    assert Conversation.objects.get(pk=Message.objects.get().conversation_id).last_seq == 1
    # Nothing of the refused send is left: no conversation with carol, no message in the group.
    assert not Conversation.objects.filter(user_high_id=carol.id).exists()
    assert Conversation.objects.get(group_id=group_id).last_seq == 0
    assert alice.send_to_user(bob, "next", client_msg_id="c-2")["seq"] == 2


@pytest.mark.django_db
def test_a_file_message_retried_with_the_file_id_spelt_otherwise_is_the_same(
    trio, settings, tmp_path
):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media"},
        },
    }
    alice, bob, _carol = trio
    file_id = upload(alice)
    first = alice.send_to_user(bob, file_id, type=1, client_msg_id="f-1")
    assert alice.send_to_user(bob, file_id.upper(), type=1, client_msg_id="f-1") == first
    other = upload(alice, name="other.png")
    _refused_with(_send(alice, _private(bob, other, type=1, client_msg_id="f-1")), 40009, 409)
    assert Message.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("refusal", ["unfriended", "blocked"])
def test_a_refused_send_repeating_an_old_id_is_refused(trio, refusal):
    """Only the retry of the stored message (same target and content) is answered with it,
    whatever may be sent now: it went through, only its answer was lost."""
    alice, bob, _carol = trio
    first = alice.send_to_user(bob, "hello", client_msg_id="c-1")
    if refusal == "unfriended":
        ok(bob.client.delete("/friend/delete", {"friend_id": alice.id}, format="json"))
    else:
        ok(bob.post("/friend/block", {"friend_id": alice.id}))
    _refused_with(_send(alice, _private(bob, "new words", client_msg_id="c-1")), 40009, 409)
    _refused_with(_send(alice, _private(bob, "new words", client_msg_id="c-2")), 40003, 403)
    assert ok(_send(alice, _private(bob, "hello", client_msg_id="c-1"))) == first
    assert Message.objects.count() == 1


@pytest.mark.django_db
def test_a_muted_member_repeating_an_old_id_is_refused(actor, make_group):
    owner, member = actor("owner"), actor("member")
    group_id = make_group(owner, member)
    first = member.send_to_group(group_id, "before", client_msg_id="m-1")
    ok(
        owner.post(
            "/group/mute/member", {"group_id": group_id, "user_id": member.id, "duration": 600}
        )
    )
    body = {"group_id": group_id, "content": "after", "chat_type": 1}
    _refused_with(_send(member, {**body, "client_msg_id": "m-1"}), 40009, 409)
    muted = _refused_with(_send(member, {**body, "client_msg_id": "m-2"}), 40003, 403)
    assert "600" in muted or "599" in muted
    assert ok(_send(member, {**body, "content": "before", "client_msg_id": "m-1"})) == first
    assert Message.objects.count() == 1


@pytest.mark.django_db
def test_another_sender_may_use_the_same_id(trio):
    alice, bob, _carol = trio
    first = alice.send_to_user(bob, "x", client_msg_id="c-1")
    assert bob.send_to_user(alice, "y", client_msg_id="c-1")["seq"] == first["seq"] + 1


# --- over /ws ----------------------------------------------------------------------------------
@pytest.mark.django_db
def test_send_from_frame_refuses_a_reused_id_with_40009(trio):
    alice, bob, carol = trio
    first = send_from_frame(alice.user, _private(bob, "hello", client_msg_id="w-1"))
    assert send_from_frame(alice.user, _private(bob, "hello", client_msg_id="w-1")).pk == first.pk
    with pytest.raises(AppError) as refused:
        send_from_frame(alice.user, _private(carol, "hello", client_msg_id="w-1"))
    assert refused.value.error_code == 40009
    assert Message.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_reused_id_over_ws_is_an_error_frame_and_no_ack(trio):
    alice, bob, carol = trio
    token = await database_sync_to_async(access_token)(alice.user)
    communicator = WebsocketCommunicator(
        application, "/ws", headers=[(b"authorization", f"Bearer {token}".encode())]
    )
    connected, _subprotocol = await communicator.connect(timeout=5)
    assert connected
    socket = Socket(communicator)
    try:
        await socket.send({"type": "message", "data": _private(bob, "hello", client_msg_id="w-1")})
        ack = await socket.receive_type("ack")
        assert (await socket.receive_type("message"))["message_id"] == ack["message_id"]
        await socket.send(
            {"type": "message", "data": _private(carol, "hello", client_msg_id="w-1")}
        )
        error = await socket.receive_type("error")
        assert (error["code"], error["client_msg_id"]) == (40009, "w-1")
        frames = await socket.drain()
        assert [frame for frame in frames if frame["type"] in ("ack", "message")] == []
        count = await database_sync_to_async(Message.objects.count)()
        assert count == 1 and ack["seq"] == 1
    finally:
        await communicator.disconnect()


# --- the store -----------------------------------------------------------------------------------
def _batch_send(sender, chat_type: int, target_id: int, content: str) -> store.Send:
    target = permissions.send_target(sender=sender, chat_type=chat_type, target_id=target_id)
    return pending_send(sender, target, content)


@pytest.mark.django_db
def test_a_seq_collision_is_an_integrity_error_not_already_sent(trio):
    alice, bob, _carol = trio
    alice.send_to_user(bob, "one")
    Conversation.objects.update(last_seq=0)  # a counter behind its messages
    with pytest.raises(IntegrityError), transaction.atomic():
        store.store_sends([_batch_send(alice.user, 0, bob.id, "two")], now=timezone.now())
    assert Message.objects.count() == 1


@pytest.mark.django_db
def test_refused_sends_leave_the_rest_of_their_batch_stored(trio, actor, make_group):
    alice, bob, carol = trio
    outsider, stranger = actor("outsider"), actor("stranger")
    group_id = make_group(alice, bob)
    alice.send_to_user(bob, "first")
    ok(carol.post("/friend/block", {"friend_id": alice.id}))
    sends = [
        _batch_send(alice.user, ChatType.PRIVATE, bob.id, "stored 1"),
        _batch_send(alice.user, ChatType.PRIVATE, carol.id, "blocked"),
        _batch_send(outsider.user, ChatType.GROUP, group_id, "not a member"),
        _batch_send(alice.user, ChatType.PRIVATE, stranger.id, "not a friend"),
        _batch_send(alice.user, ChatType.PRIVATE, 999999, "nobody"),
        _batch_send(bob.user, ChatType.GROUP, group_id, "stored 2"),
        _batch_send(alice.user, ChatType.GROUP, 999999, "no group"),
    ]
    with transaction.atomic():
        store.store_sends(sends, now=timezone.now())
    codes = [send.refusal.error_code if send.refusal else None for send in sends]
    assert codes == [None, 40003, 40003, 40003, 40004, None, 40004]
    assert [send.message.seq for send in sends if send.refusal is None] == [2, 1]
    assert set(Message.objects.values_list("content", flat=True)) == {
        "first",
        "stored 1",
        "stored 2",
    }
    # Refused first messages create no conversation.
    assert Conversation.objects.count() == 2
    assert sorted(sends[5].recipients) == sorted([alice.id, bob.id])


@pytest.mark.django_db
def test_a_group_refusal_in_the_store_words_it_like_the_typing_check(actor, make_group):
    owner, member = actor("owner"), actor("member")
    group_id = make_group(owner, member)
    ok(
        owner.post(
            "/group/mute/member", {"group_id": group_id, "user_id": member.id, "duration": 60}
        )
    )
    send = _batch_send(member.user, ChatType.GROUP, group_id, "x")
    with transaction.atomic():
        store.store_sends([send], now=timezone.now())
    with pytest.raises(AppError) as typing:
        selectors.typing_recipients(user=member.user, chat_type=1, target_id=group_id)
    assert send.refusal.error_code == typing.value.error_code == 40003
    assert str(send.refusal.detail)[:20] == str(typing.value.detail)[:20]
    assert not Message.objects.exists()
