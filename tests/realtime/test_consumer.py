"""Every frame type and every close code of /ws (CONTRACT 7), in process."""

import asyncio
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.test import override_settings
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from accounts import services as account_services
from accounts.tokens import TOKEN_VERSION_CLAIM, token_pair_for_user
from groups import services as group_services
from imserver.fanout_wire import DIRECT_MAX
from imserver.publish import push_now, user_group_name
from realtime.fanout import local_sockets
from realtime.presence import online_user_ids
from social import services as social_services
from tests.support.stuck_socket import hold_listener

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

make = database_sync_to_async


def befriend(a, b) -> None:
    request = social_services.friend_request_send(from_user=a, to_user_id=b.pk)
    social_services.friend_request_handle(user=b, request_id=request.pk, action=2)


def access_token_expiring(user, *, after: timedelta) -> str:
    """A valid access token of ``user`` whose ``exp`` is ``after`` from now (negative: expired)."""
    token = AccessToken.for_user(user)
    token[TOKEN_VERSION_CLAIM] = user.token_version
    token.set_exp(from_time=timezone.now(), lifetime=after)
    return str(token)


@pytest.fixture
def pair(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    befriend(alice, bob)
    return alice, bob


async def test_ping_pong_with_header_and_query_token(make_user, open_socket):
    user = await make(make_user)("alice")
    for via in ("header", "query"):
        connected, socket = await open_socket(user, via=via)
        assert connected
        await socket.send({"type": "ping"})
        assert await socket.receive() == {"type": "pong", "data": {}}
        await socket.close()


@pytest.mark.parametrize("token", [None, "garbage", "a.b.c"])
async def test_missing_or_bad_token_closes_4001(open_socket, token):
    _connected, socket = await open_socket(token=token)
    assert await socket.closed_with() == 4001


async def test_expired_and_revoked_tokens_close_4001(make_user, open_socket):
    user = await make(make_user)("alice")

    expired = await make(access_token_expiring)(user, after=-timedelta(hours=1))
    _connected, socket = await open_socket(token=expired)
    assert await socket.closed_with() == 4001

    old = await make(token_pair_for_user)(user)
    await make(account_services.revoke_all_tokens)(user)
    _connected, socket = await open_socket(token=old["access_token"])
    assert await socket.closed_with() == 4001


@pytest.mark.parametrize("how", ["ban", "password"])
async def test_ban_or_password_change_closes_open_sockets(make_user, open_socket, how):
    user = await make(make_user)("alice")
    _connected, first = await open_socket(user)
    _connected, second = await open_socket(user)
    if how == "ban":
        await make(account_services.user_set_banned)(user=user, banned=True)
    else:
        await make(account_services.user_change_password)(
            user=user, old_password="secret123", new_password="another-1"
        )
    assert await first.closed_with() == 4001
    assert await second.closed_with() == 4001


async def test_malformed_frames_get_an_error_and_the_socket_stays(make_user, open_socket):
    _connected, socket = await open_socket(await make(make_user)("alice"))
    for raw in (
        "{not json",
        "[1,2]",
        '"text"',
        '{"type": "dance"}',
        '{"no": "type"}',
        '{"type": "message", "data": [1]}',
    ):
        await socket.communicator.send_to(text_data=raw)
        error = await socket.receive_type("error")
        assert error["code"] == 40000 and error["message"]
    await socket.send({"type": "message", "data": {"content": "x"}})
    error = await socket.receive_type("error")
    assert error["code"] == 40000 and "chat_type" in error["message"]
    await socket.send({"type": "ping"})
    assert (await socket.receive())["type"] == "pong"


async def test_a_frame_over_64_kib_closes_1009(make_user, open_socket):
    _connected, socket = await open_socket(await make(make_user)("alice"))
    await socket.send({"type": "ping", "pad": "x" * 65536})
    assert await socket.closed_with() == 1009


@override_settings(IM_WS_IDLE_TIMEOUT_S=1)
async def test_silent_sockets_close_4008(make_user, open_socket):
    _connected, socket = await open_socket(await make(make_user)("alice"))
    assert await socket.closed_with(timeout=5) == 4008


async def test_browser_origin_must_be_allowed(make_user, open_socket):
    user = await make(make_user)("alice")
    connected, _socket = await open_socket(user, headers=[(b"origin", b"http://evil.example")])
    assert not connected
    connected, socket = await open_socket(user, headers=[(b"origin", b"http://127.0.0.1:8080")])
    assert connected
    await socket.close()


async def test_message_frame_acks_and_reaches_every_device(pair, open_socket):
    alice, bob = pair
    _c, alice_phone = await open_socket(alice)
    _c, alice_laptop = await open_socket(alice)
    _c, bob_phone = await open_socket(bob)
    await alice_phone.send(
        {
            "type": "message",
            "data": {
                "to_user_id": bob.pk,
                "chat_type": 0,
                "type": 0,
                "content": "hi",
                "client_msg_id": "m1",
            },
        }
    )
    ack = await alice_phone.receive_type("ack")
    assert ack["client_msg_id"] == "m1" and ack["seq"] == 1
    for socket in (bob_phone, alice_laptop, alice_phone):
        pushed = await socket.receive_type("message")
        assert pushed["message_id"] == ack["message_id"]
        assert (pushed["sender_id"], pushed["receiver_id"], pushed["content"]) == (
            alice.pk,
            bob.pk,
            "hi",
        )


async def test_message_frame_refusal_is_an_error_frame(make_user, open_socket):
    alice, stranger = await make(make_user)("alice"), await make(make_user)("stranger")
    _c, socket = await open_socket(alice)
    await socket.send(
        {
            "type": "message",
            "data": {
                "to_user_id": stranger.pk,
                "chat_type": 0,
                "content": "x",
                "client_msg_id": "m9",
            },
        }
    )
    error = await socket.receive_type("error")
    assert (error["code"], error["client_msg_id"]) == (40003, "m9")


async def test_english_errors_with_accept_language(make_user, open_socket):
    user = await make(make_user)("alice")
    _c, socket = await open_socket(user, headers=[(b"accept-language", b"en")])
    await socket.communicator.send_to(text_data="{oops")
    assert (await socket.receive_type("error"))["message"].startswith("Invalid parameter")


async def test_read_frame_sends_a_receipt(pair, open_socket):
    alice, bob = pair
    _c, alice_socket = await open_socket(alice)
    _c, bob_socket = await open_socket(bob)
    await alice_socket.send(
        {"type": "message", "data": {"to_user_id": bob.pk, "chat_type": 0, "content": "read me"}}
    )
    await bob_socket.receive_type("message")
    await bob_socket.send({"type": "read", "data": {"target_id": alice.pk, "chat_type": 0}})
    receipt = await alice_socket.receive_type("read")
    assert receipt == {"user_id": bob.pk, "target_id": alice.pk, "chat_type": 0, "read_seq": 1}
    assert (await bob_socket.receive_type("read"))["read_seq"] == 1


async def test_typing_is_relayed_to_the_other_side_only(pair, open_socket):
    alice, bob = pair
    _c, alice_socket = await open_socket(alice)
    _c, bob_socket = await open_socket(bob)
    await alice_socket.send({"type": "typing", "data": {"target_id": bob.pk, "chat_type": 0}})
    typing = await bob_socket.receive_type("typing")
    assert typing == {"user_id": alice.pk, "target_id": bob.pk, "chat_type": 0}
    assert [f for f in await alice_socket.drain() if f["type"] == "typing"] == []


async def test_group_fan_out_reaches_every_member_socket(make_user, open_socket):
    owner = await make(make_user)("owner")
    members = [await make(make_user)(f"m{n}") for n in range(4)]
    group = await make(group_services.group_create)(owner=owner, name="crew")
    await make(group_services.group_invite)(
        user=owner, group_id=group.pk, user_ids=[m.pk for m in members]
    )
    sockets = [(await open_socket(m))[1] for m in members]
    _c, owner_socket = await open_socket(owner)
    await owner_socket.send(
        {"type": "message", "data": {"group_id": group.pk, "chat_type": 1, "content": "all hands"}}
    )
    ack = await owner_socket.receive_type("ack")
    for socket in sockets:
        pushed = await socket.receive_type("message")
        assert (pushed["message_id"], pushed["receiver_type"], pushed["group_id"]) == (
            ack["message_id"],
            "group",
            group.pk,
        )


async def test_a_big_group_is_fanned_out_once_per_process_to_exactly_its_members(
    make_user, open_socket
):
    owner = await make(make_user)("owner")
    members = [await make(make_user)(f"m{n}") for n in range(DIRECT_MAX + 3)]
    outsider = await make(make_user)("outsider")
    group = await make(group_services.group_create)(owner=owner, name="crowd")
    await make(group_services.group_invite)(
        user=owner, group_id=group.pk, user_ids=[m.pk for m in members]
    )
    leaver = members.pop()
    await make(group_services.group_leave)(user=leaver, group_id=group.pk)
    member_sockets = [(await open_socket(m))[1] for m in members[:3]]
    member_sockets.append((await open_socket(members[0]))[1])  # a second device
    _c, leaver_socket = await open_socket(leaver)
    _c, outsider_socket = await open_socket(outsider)
    _c, owner_socket = await open_socket(owner)

    await owner_socket.send(
        {"type": "message", "data": {"group_id": group.pk, "chat_type": 1, "content": "crowd"}}
    )
    ack = await owner_socket.receive_type("ack")
    assert (await owner_socket.receive_type("message"))["message_id"] == ack["message_id"]
    for socket in member_sockets:
        frames = [f for f in await socket.drain() if f["type"] == "message"]
        assert [f["data"]["message_id"] for f in frames] == [ack["message_id"]]
    for socket in (leaver_socket, outsider_socket):
        assert [f for f in await socket.drain() if f["type"] == "message"] == []


async def test_presence_edges_and_friend_list(pair, open_socket, client_for):
    alice, bob = pair
    _c, bob_socket = await open_socket(bob)
    _c, alice_first = await open_socket(alice)
    assert await bob_socket.receive_type("presence") == {"user_id": alice.pk, "online_status": 1}
    assert await make(online_user_ids)([alice.pk, bob.pk]) == {alice.pk, bob.pk}

    def alice_status_in_bobs_list() -> int:
        response = client_for(bob).get("/friend/list").json()
        return response["data"]["friends"][0]["online_status"]

    assert await make(alice_status_in_bobs_list)() == 1
    _c, alice_second = await open_socket(alice)  # a second device: no new edge
    assert await bob_socket.nothing()
    await alice_first.close()
    assert await bob_socket.nothing()
    await alice_second.close()
    assert await bob_socket.receive_type("presence") == {"user_id": alice.pk, "online_status": 0}
    assert await make(alice_status_in_bobs_list)() == 0


async def test_a_consumer_that_ends_by_an_exception_is_cleaned_up_like_a_closed_one(
    pair, open_socket
):
    """The consumer's task ends without a close (cancelled here, as a server's shutdown does):
    the socket is still taken out of the registry, its user's push group and presence, and
    friends get the offline push."""
    alice, bob = pair
    _connected, bob_socket = await open_socket(bob)
    _connected, alice_socket = await open_socket(alice)
    assert await bob_socket.receive_type("presence") == {"user_id": alice.pk, "online_status": 1}
    registry = local_sockets()
    assert alice.pk in registry.by_user and alice.pk in registry.joined

    alice_socket.communicator.future.cancel()

    assert await bob_socket.receive_type("presence") == {"user_id": alice.pk, "online_status": 0}
    assert alice.pk not in registry.by_user and alice.pk not in registry.joined
    assert await make(online_user_ids)([alice.pk]) == set()
    await bob_socket.close()


async def test_events_the_listener_cannot_handle_are_dropped_and_pushes_go_on(pair, open_socket):
    """An event of an unknown type, and a push without its text: each is logged and dropped by
    the loop's listener; the sockets stay open and later pushes still arrive."""
    alice, _bob = pair
    _connected, socket = await open_socket(alice)
    layer = get_channel_layer()
    await layer.group_send(user_group_name(alice.pk), {"type": "no.such.event"})
    await layer.group_send(user_group_name(alice.pk), {"type": "push", "user_id": alice.pk})
    await push_now([alice.pk], "custom", {"n": 1})
    assert await socket.receive_type("custom") == {"n": 1}
    await socket.send({"type": "ping"})
    assert await socket.receive_type("pong") == {}
    await socket.close()


async def test_auth_frame_extends_the_session(make_user, open_socket):
    user = await make(make_user)("alice")
    other = await make(make_user)("bob")
    first = await make(token_pair_for_user)(user)
    _connected, socket = await open_socket(token=first["access_token"])

    token = await make(access_token_expiring)(user, after=timedelta(hours=3))
    await socket.send({"type": "auth", "data": {"token": token}})
    expires_at = AccessToken(token, verify=False)["exp"]
    assert await socket.receive_type("auth") == {"expires_at": expires_at}
    refusals = [
        ({}, 40000),
        ({"token": ""}, 40000),
        ({"token": first["access_token"]}, 40000),  # expires earlier than the current one
        ({"token": first["refresh_token"]}, 40001),
        ({"token": (await make(token_pair_for_user)(other))["access_token"]}, 40001),
        ({"token": "a.b.c"}, 40001),
    ]
    for data, code in refusals:
        await socket.send({"type": "auth", "data": data})
        assert (await socket.receive_type("error"))["code"] == code, data
    await make(account_services.revoke_all_tokens)(user)
    assert await socket.closed_with() == 4001


async def test_a_socket_closes_4001_when_its_token_expires(make_user, open_socket):
    user = await make(make_user)("alice")

    expiring = await make(access_token_expiring)(user, after=timedelta(seconds=1))
    _connected, socket = await open_socket(token=expiring)
    await socket.send({"type": "ping"})
    assert await socket.receive_type("pong") == {}
    assert await socket.closed_with(timeout=4) == 4001


@override_settings(IM_WS_MAX_CONNECTIONS_PER_USER=2)
async def test_one_socket_over_the_cap_closes_4029(make_user, open_socket):
    user = await make(make_user)("alice")
    _connected, _first = await open_socket(user)
    _connected, second = await open_socket(user)
    _connected, third = await open_socket(user)
    assert await third.closed_with() == 4029
    await third.close()  # the client's answer to the close, which ends that consumer
    await second.close()
    _connected, again = await open_socket(user)
    await again.send({"type": "ping"})
    assert await again.receive_type("pong") == {}


async def test_a_burst_of_pushes_all_reach_the_socket(make_user, open_socket):
    """500 pushes arrive while the loop's listener is held up in a write: its one channel holds
    them all (IM_CHANNEL_CAPACITY), none is dropped, and they reach the socket in order."""
    user, other = await make(make_user)("alice"), await make(make_user)("bob")
    _connected, socket = await open_socket(user)
    registry = local_sockets()
    stuck = await hold_listener(registry, other.pk)
    for i in range(500):
        await push_now([user.pk], "n", {"i": i})
    stuck.release.set()
    received = [(await socket.receive_type("n"))["i"] for _ in range(500)]
    assert received == list(range(500))
    assert await socket.nothing()
    await registry.remove(other.pk, stuck)
    await socket.close()


async def test_presence_outlives_its_ttl_while_the_socket_is_open(make_user, open_socket):
    """Each process refreshes the presence entries of all its sockets every TTL / 3: a user
    with an open socket stays online past the TTL, and goes offline with the socket."""
    user = await make(make_user)("alice")
    with override_settings(IM_PRESENCE_TTL_S=1):
        _connected, socket = await open_socket(user)
        await asyncio.sleep(2.5)
        assert await make(online_user_ids)([user.pk]) == {user.pk}
        await socket.close()
        assert await make(online_user_ids)([user.pk]) == set()
