"""``/ws`` as a client sees it through a real daphne process (docs/realtime.md, CONTRACT 7 and
12), on the in-memory channel layer and on Redis: every client frame, every close code, every
session rule and limit, and hostile clients that leave nothing behind (their friends get the
offline ``presence`` push at once, and the server's own count of open sockets, in its log, is
back where it was)."""

import asyncio
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import jwt
import pytest
import redis

from tests.e2e.ws_clients import (
    Socket,
    User,
    non_reading_socket,
    open_sockets_reported,
    wait_for_socket_count,
)
from tests.support.databases import fresh_database_url
from tests.support.redis_dbs import redis_url_for
from tests.support.server import ROOT, ServerProcess

LAYERS = [
    pytest.param("memory", id="memory"),
    pytest.param("redis", id="redis", marks=pytest.mark.requires_redis),
]

StartServer = Callable[..., ServerProcess]


def _redis_url() -> str:
    return redis_url_for("ws_rules")


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[StartServer]:
    """``start_server(layer, **env)``: a daphne process on a fresh database, without rate
    limits unless ``env`` turns them on; with ``layer`` "redis", on Redis (its own db, emptied:
    user ids restart at 1 and presence entries of an earlier server must not count)."""
    with ExitStack() as stack:
        servers: list[ServerProcess] = []

        def start(layer: str, **env: str) -> ServerProcess:
            database_url = stack.enter_context(fresh_database_url(tmp_path, f"ws{len(servers)}"))
            base = {
                "DATABASE_URL": database_url,
                "IM_MEDIA_ROOT": str(tmp_path / "media"),
                "IM_THROTTLE": "0",
                "REDIS_URL": "",
                "CHANNEL_LAYER_REDIS_URL": "",
            }
            if layer == "redis":
                redis.Redis.from_url(_redis_url()).flushdb()
                base["REDIS_URL"] = base["CHANNEL_LAYER_REDIS_URL"] = _redis_url()
            server = ServerProcess({**base, **env})
            servers.append(server)
            return server.start()

        yield start
        for server in servers:
            server.stop()


def friends(server: ServerProcess) -> tuple[User, User]:
    """Alice and Bob, friends."""
    alice, bob = User(server, "alice"), User(server, "bob")
    alice.befriend(bob)
    return alice, bob


def run(coroutine_function: Callable, *args: object) -> None:
    asyncio.run(coroutine_function(*args))


async def _offline_pushed(observer: Socket, user: User, within: float = 3) -> None:
    presence = await observer.next("presence", timeout=within)
    assert presence == {"user_id": user.id, "online_status": 0}


def _no_tracebacks(server: ServerProcess) -> None:
    assert "Traceback" not in server.output(), server.output()[-4000:]


# --- frames --------------------------------------------------------------------------------


@pytest.mark.parametrize("layer", LAYERS)
def test_every_client_frame_and_every_push(start_server: StartServer, layer: str) -> None:
    server = start_server(layer)
    alice, bob, carol = User(server, "alice"), User(server, "bob"), User(server, "carol")
    alice.befriend(bob)

    async def scenario() -> None:
        alice_phone, alice_laptop = await alice.socket(), await alice.socket()
        bob_socket = await bob.socket()
        assert await alice_phone.next("presence") == {"user_id": bob.id, "online_status": 1}

        assert await alice_phone.answer_to({"type": "ping"}, "pong") == {}
        auth = await alice_phone.answer_to({"type": "auth", "data": {"token": alice.token}}, "auth")
        assert auth == {
            "expires_at": jwt.decode(alice.token, options={"verify_signature": False})["exp"]
        }

        send = {"to_user_id": bob.id, "chat_type": 0, "content": "hi", "client_msg_id": "c-1"}
        ack = await alice_phone.answer_to({"type": "message", "data": send}, "ack")
        assert ack["client_msg_id"] == "c-1" and ack["seq"] == 1
        for socket in (alice_phone, alice_laptop, bob_socket):
            message = await socket.next("message")
            assert (message["message_id"], message["content"]) == (ack["message_id"], "hi")
            assert message["group_id"] is None and message["receiver_id"] == bob.id

        await bob_socket.send({"type": "read", "data": {"target_id": alice.id, "chat_type": 0}})
        read = await alice_phone.next("read")
        assert read == {"user_id": bob.id, "target_id": alice.id, "chat_type": 0, "read_seq": 1}

        await bob_socket.send({"type": "typing", "data": {"target_id": alice.id, "chat_type": 0}})
        typing = await alice_laptop.next("typing")
        assert typing == {"user_id": bob.id, "target_id": alice.id, "chat_type": 0}

        alice.call("POST", "/chat/message/recall", {"message_id": ack["message_id"]})
        assert (await bob_socket.next("recall"))["message_id"] == ack["message_id"]

        refused = {"to_user_id": carol.id, "chat_type": 0, "content": "x", "client_msg_id": "c-2"}
        error = await alice_phone.answer_to({"type": "message", "data": refused})
        assert error["code"] == 40003 and error["client_msg_id"] == "c-2"

        carol_socket = await carol.socket()
        request_id = carol.call("POST", "/friend/request/send", {"to_user_id": alice.id})[
            "request_id"
        ]
        assert (await alice_phone.next("friend_request"))["id"] == request_id
        alice.call("POST", "/friend/request/handle", {"request_id": request_id, "action": 2})
        assert (await carol_socket.next("friend_request_handled"))["id"] == request_id

        group_id = alice.call("POST", "/group/create", {"group_name": "g"})["group_id"]
        alice.call("POST", "/group/invite", {"group_id": group_id, "user_ids": [bob.id]})
        assert (await bob_socket.next("group_notification"))["group_id"] == group_id
        group_send = {"group_id": group_id, "chat_type": 1, "content": "all", "client_msg_id": "g"}
        await alice_phone.answer_to({"type": "message", "data": group_send}, "ack")
        assert (await bob_socket.next("message"))["group_id"] == group_id

        await bob_socket.close()
        await _offline_pushed(alice_phone, bob)
        for socket in (alice_phone, alice_laptop, carol_socket):
            await socket.close()

    run(scenario)
    wait_for_socket_count(server, 0)
    _no_tracebacks(server)


def _nested(depth: int) -> str:
    """A ping frame whose outermost object is level 1 and whose deepest object is ``depth``."""
    return '{"type": "ping", "data": ' + '{"a": ' * (depth - 2) + "{}" + "}" * (depth - 2) + "}"


HOSTILE_FRAMES = [
    '{"type": []}',
    '{"type": {"a": 1}}',
    "[" * 20_000,
    _nested(33),
    '{"type": "read", "data": {"target_id": 1, "chat_type": "\\ud800"}}',
    '{"type": "message", "data": {"to_user_id": 1, "chat_type": 0, "content": "x",'
    ' "client_msg_id": "\\ud800"}}',
    '{"type": "auth", "data": {"token": "\\udfff"}}',
    '{"\\ud800": 1, "type": "ping"}',
    "not json",
    b"\xff\xfe\x00",
    '"a string"',
    "null",
    '{"type": "' + "x" * 10_000 + '"}',
    '{"type": "ping", "data": 5}',
    '{"type": "message", "data": [1]}',
    '{"type": "message", "data": {"to_user_id": [], "chat_type": {}}}',
    '{"type": "message", "data": {"to_user_id": 99999999999999999999999, "chat_type": 0}}',
    '{"type": "typing", "data": {"target_id": "abc", "chat_type": 0}}',
    '{"type": "read", "data": {"target_id": 1e400, "chat_type": 0}}',
    '{"type": "auth", "data": {}}',
    '{"type": "auth", "data": {"token": 5}}',
    # the fields of CONTRACT 10 (alice is user 1, bob user 2)
    '{"type": "message", "data": {"to_user_id": 2, "chat_type": 0, "content": "x",'
    ' "reply_to": "abc"}}',
    '{"type": "message", "data": {"to_user_id": 2, "chat_type": 0, "content": "x",'
    ' "reply_to": -1}}',
    '{"type": "message", "data": {"to_user_id": 2, "chat_type": 0, "content": "x",'
    ' "mentions": [2]}}',
    '{"type": "message", "data": {"to_user_id": 2, "chat_type": 0, "content": "x",'
    ' "mentions": {"a": 1}}}',
    '{"type": "message", "data": {"to_user_id": 2, "chat_type": 0, "content": "x",'
    ' "mention_all": "maybe"}}',
    '{"type": "message", "data": {"group_id": 1, "chat_type": 1, "content": "x",'
    ' "mentions": [' + ", ".join(str(n) for n in range(1, 52)) + "]}}",
]


@pytest.mark.parametrize("layer", LAYERS)
def test_hostile_frames_are_refused_and_leave_nothing_behind(
    start_server: StartServer, layer: str
) -> None:
    server = start_server(layer)
    alice, bob = friends(server)

    async def scenario() -> None:
        observer = await bob.socket()
        wait_for_socket_count(server, 1)
        attacker = await alice.socket()
        assert (await observer.next("presence"))["online_status"] == 1
        for frame in HOSTILE_FRAMES:
            error = await attacker.answer_to(frame)
            assert error["code"] == 40000, (frame[:60], error)
            assert await attacker.alive(), frame[:60]
        for token in ("abc", bob.token, alice.refresh_token):
            error = await attacker.answer_to({"type": "auth", "data": {"token": token}})
            assert error["code"] == 40001
        assert await attacker.answer_to(_nested(32), "pong") == {}
        await attacker.close()
        await _offline_pushed(observer, alice, within=2)
        wait_for_socket_count(server, 1)
        await observer.close()

    run(scenario)
    _no_tracebacks(server)


@pytest.mark.parametrize("layer", LAYERS)
def test_a_frame_over_64_kib_closes_the_socket_with_1009(
    start_server: StartServer, layer: str
) -> None:
    server = start_server(layer)
    alice, bob = friends(server)

    async def scenario() -> None:
        observer = await bob.socket()
        sender = await alice.socket()
        await observer.next("presence")
        exactly_64_kib = '{"type": "ping", "pad": "' + "x" * (65536 - 27) + '"}'
        assert len(exactly_64_kib.encode()) == 65536
        assert await sender.answer_to(exactly_64_kib, "pong") == {}
        await sender.send(exactly_64_kib[:-2] + 'x"}')
        assert await sender.closed_with() == 1009
        await _offline_pushed(observer, alice)
        wait_for_socket_count(server, 1)
        # Multibyte: 21,846 three-byte characters are 65,538 bytes.
        again = await alice.socket()
        await observer.next("presence")
        await again.send('{"type": "ping", "pad": "' + "你" * 21_846 + '"}')
        assert await again.closed_with() == 1009
        await _offline_pushed(observer, alice)
        await observer.close()

    run(scenario)
    wait_for_socket_count(server, 0)
    _no_tracebacks(server)


# --- sessions ------------------------------------------------------------------------------


def _exp(token: str) -> int:
    return jwt.decode(token, options={"verify_signature": False})["exp"]


@pytest.mark.parametrize("layer", LAYERS)
def test_a_socket_lives_as_long_as_its_token_and_auth_extends_it(
    start_server: StartServer, layer: str
) -> None:
    server = start_server(layer, IM_ACCESS_TOKEN_LIFETIME_S="3")
    alice, bob = User(server, "alice"), User(server, "bob")
    first_token = alice.token

    async def scenario() -> None:
        for token in ("", "garbage", bob.refresh_token):
            socket = await Socket.open(server, token)
            assert await socket.closed_with() == 4001
        kept, extended = await alice.socket(), await alice.socket()
        await asyncio.sleep(1.1)
        alice.login()  # a later exp
        assert _exp(alice.token) > _exp(first_token)
        answer = await extended.answer_to({"type": "auth", "data": {"token": alice.token}}, "auth")
        assert answer == {"expires_at": _exp(alice.token)}
        earlier = await extended.answer_to({"type": "auth", "data": {"token": first_token}})
        assert earlier["code"] == 40000
        other_user = await extended.answer_to({"type": "auth", "data": {"token": bob.token}})
        assert other_user["code"] == 40001

        assert await kept.closed_with(timeout=10) == 4001
        assert time.time() <= _exp(first_token) + 5
        assert await extended.alive()  # its token is the later one
        assert await extended.closed_with(timeout=10) == 4001
        assert time.time() <= _exp(alice.token) + 5

        expired = await Socket.open(server, first_token)
        assert await expired.closed_with() == 4001

    run(scenario)
    wait_for_socket_count(server, 0)
    _no_tracebacks(server)


@pytest.mark.parametrize("layer", LAYERS)
def test_logout_everywhere_and_password_change_close_every_socket(
    start_server: StartServer, layer: str
) -> None:
    server = start_server(layer)
    alice = User(server, "alice")

    async def scenario() -> None:
        phone, laptop = await alice.socket(), await alice.socket()
        # A plain logout blacklists that refresh token only: the sockets stay.
        assert alice.call("POST", "/logout", {"refresh_token": alice.refresh_token})
        assert await phone.alive() and await laptop.alive()

        alice.login()
        old_access = alice.token
        everywhere = {"refresh_token": alice.refresh_token, "all_devices": True}
        assert alice.call("POST", "/logout", everywhere)
        assert await phone.closed_with() == 4001
        assert await laptop.closed_with() == 4001
        assert alice.answer("GET", "/user/profile")["code"] == 40001
        assert (
            alice.answer("POST", "/refresh_token", {"refresh_token": alice.refresh_token})["code"]
            == 40001
        )
        # Tokens issued after it work, also within the same second.
        alice.login()
        assert alice.token != old_access
        assert alice.call("GET", "/user/profile")["id"] == alice.id
        socket = await alice.socket()
        assert await socket.alive()

        other = await alice.socket()
        new_password = {"old_password": "secret123", "new_password": "another-1"}
        fresh = alice.call("PUT", "/user/update/password", new_password)
        assert await socket.closed_with() == 4001
        assert await other.closed_with() == 4001
        renewed = await Socket.open(server, fresh["access_token"])
        assert await renewed.alive()
        await renewed.close()

    run(scenario)
    wait_for_socket_count(server, 0)
    _no_tracebacks(server)


def _ban_from_another_process(server: ServerProcess, username: str) -> None:
    """Ban through the service, in a process whose revoke push cannot reach the server: with
    the in-memory layer nothing crosses processes; with Redis its channel layer points at a
    port where nothing listens."""
    code = (
        "from accounts.models import User; from accounts.services import user_set_banned; "
        f"user_set_banned(user=User.objects.get(username={username!r}), banned=True)"
    )
    env = dict(server.env)
    if env.get("CHANNEL_LAYER_REDIS_URL"):
        env["CHANNEL_LAYER_REDIS_URL"] = "redis://127.0.0.1:1/0"
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
    )


@pytest.mark.parametrize("layer", LAYERS)
def test_a_ban_whose_push_is_lost_still_closes_the_socket_within_30_s(
    start_server: StartServer, layer: str
) -> None:
    """Each process re-reads its sockets' users every IM_WS_SESSION_CHECK_S: on Redis with the
    default (30 s); in memory, where CI runs it in more passes, every 3 s."""
    check_s = 30 if layer == "redis" else 3
    server = start_server(layer, **({} if layer == "redis" else {"IM_WS_SESSION_CHECK_S": "3"}))
    alice, bob = friends(server)

    async def scenario() -> None:
        observer = await bob.socket()
        banned = await alice.socket()
        await observer.next("presence")
        _ban_from_another_process(server, "alice")
        banned_at = time.monotonic()
        assert await banned.alive()  # the push was lost
        code = await banned.closed_with(timeout=check_s + 5)
        assert code == 4001, server.output()[-5000:]
        assert time.monotonic() - banned_at <= check_s + 1
        await _offline_pushed(observer, alice)
        await observer.close()

    run(scenario)
    wait_for_socket_count(server, 0)


# --- limits --------------------------------------------------------------------------------


@pytest.mark.parametrize("layer", LAYERS)
def test_a_silent_socket_is_closed_with_4008(start_server: StartServer, layer: str) -> None:
    server = start_server(layer, IM_WS_IDLE_TIMEOUT_S="2")
    alice = User(server, "alice")

    async def scenario() -> None:
        silent, talking = await alice.socket(), await alice.socket()
        started = time.monotonic()
        for _ in range(5):
            await asyncio.sleep(0.5)
            assert await talking.alive()
        assert await silent.closed_with() == 4008
        assert 2 <= time.monotonic() - started <= 4
        assert await talking.alive()
        await talking.close()

    run(scenario)
    wait_for_socket_count(server, 0)


@pytest.mark.parametrize("layer", LAYERS)
def test_one_socket_more_than_the_cap_is_closed_with_4029(
    start_server: StartServer, layer: str
) -> None:
    """The cap holds with IM_THROTTLE=0 (this server's setting), as CONTRACT 12 says."""
    server = start_server(layer, IM_WS_MAX_CONNECTIONS_PER_USER="3")
    alice, bob = User(server, "alice"), User(server, "bob")

    async def scenario() -> None:
        sockets = [await alice.socket() for _ in range(3)]
        refused = await alice.socket()
        assert await refused.closed_with() == 4029
        assert all([await socket.alive() for socket in sockets])
        bobs = await bob.socket()  # another user's sockets are counted apart
        assert await bobs.alive()
        await sockets.pop().close()
        wait_for_socket_count(server, 3)
        replacement = await alice.socket()
        assert await replacement.alive()
        for socket in [*sockets, replacement, bobs]:
            await socket.close()

    run(scenario)
    wait_for_socket_count(server, 0)
    _no_tracebacks(server)


@pytest.mark.parametrize("layer", LAYERS)
def test_a_client_that_does_not_read_is_closed_at_the_buffer_bound(
    start_server: StartServer, layer: str
) -> None:
    server = start_server(layer, IM_WS_MAX_BUFFERED_BYTES="262144")
    alice, bob = friends(server)
    carol = User(server, "carol")  # the messages go to her (no socket): only Alice's devices
    alice.befriend(carol)  # get them, and Bob's socket sees nothing but presence

    async def scenario() -> None:
        observer = await bob.socket()
        stuck = non_reading_socket(server, alice.token)
        try:
            await observer.next("presence")
            text = "慢" * 5000  # about 15 KB a frame
            for _ in range(600):  # the kernel takes up to about 4 MB first
                alice.call(
                    "POST", "/chat/send", {"to_user_id": carol.id, "chat_type": 0, "content": text}
                )
                if "slow consumer" in server.output():
                    break
            await _offline_pushed(observer, alice, within=5)
            assert "slow consumer" in server.output()
            wait_for_socket_count(server, 1)
        finally:
            stuck.close()
        await observer.close()

    run(scenario)
    _no_tracebacks(server)


@pytest.mark.parametrize("layer", LAYERS)
def test_typing_is_limited_per_socket_and_refused_to_muted_members(
    start_server: StartServer, layer: str
) -> None:
    server = start_server(layer)
    alice, bob = friends(server)
    group_id = alice.call("POST", "/group/create", {"group_name": "g"})["group_id"]
    alice.call("POST", "/group/invite", {"group_id": group_id, "user_ids": [bob.id]})
    alice.call(
        "POST", "/group/mute/member", {"group_id": group_id, "user_id": bob.id, "duration": 600}
    )

    async def scenario() -> None:
        alices, bobs = await alice.socket(), await bob.socket()
        typing = {"type": "typing", "data": {"target_id": bob.id, "chat_type": 0}}
        for _ in range(20):
            await alices.send(typing)
        relayed = [f for f in await bobs.frames(within=1) if f["type"] == "typing"]
        assert 5 <= len(relayed) <= 6
        await asyncio.sleep(1)
        await alices.send(typing)
        assert (await bobs.next("typing"))["user_id"] == alice.id

        muted = {"type": "typing", "data": {"target_id": group_id, "chat_type": 1}}
        assert (await bobs.answer_to(muted))["code"] == 40003
        assert not [f for f in await alices.frames(within=0.5) if f["type"] == "typing"]
        await alices.close()
        await bobs.close()

    run(scenario)
    wait_for_socket_count(server, 0)


def _presence_of(frame: dict, user: User) -> bool:
    return frame["type"] == "presence" and frame["data"]["user_id"] == user.id


@pytest.mark.parametrize("layer", LAYERS)
def test_blocking_hides_presence_both_ways(start_server: StartServer, layer: str) -> None:
    server = start_server(layer)
    alice, bob, carol = User(server, "alice"), User(server, "bob"), User(server, "carol")
    alice.befriend(bob)
    carol.befriend(alice)
    carol.befriend(bob)
    bob.call("POST", "/friend/block", {"friend_id": alice.id})

    async def scenario() -> None:
        carols = await carol.socket()
        alices = await alice.socket()
        assert await carols.next("presence") == {"user_id": alice.id, "online_status": 1}
        bobs = await bob.socket()
        assert await carols.next("presence") == {"user_id": bob.id, "online_status": 1}
        assert not [f for f in await alices.frames(within=0.5) if _presence_of(f, bob)]
        friends = {f["friend_id"]: f for f in alice.call("GET", "/friend/list")["friends"]}
        assert friends[bob.id]["online_status"] == 0
        await alices.close()
        assert await carols.next("presence") == {"user_id": alice.id, "online_status": 0}
        assert not [f for f in await bobs.frames(within=0.5) if _presence_of(f, alice)]
        await bobs.close()
        await carols.close()

    run(scenario)
    wait_for_socket_count(server, 0)
    assert open_sockets_reported(server) == 0


@pytest.mark.requires_redis
def test_the_connection_cap_counts_the_sockets_of_every_process(tmp_path: Path) -> None:
    redis.Redis.from_url(_redis_url()).flushdb()
    with fresh_database_url(tmp_path, "cap") as database_url:
        env = {
            "DATABASE_URL": database_url,
            "REDIS_URL": _redis_url(),
            "CHANNEL_LAYER_REDIS_URL": _redis_url(),
            "IM_THROTTLE": "0",
            "IM_WS_MAX_CONNECTIONS_PER_USER": "2",
        }
        first, second = ServerProcess(env).start(), ServerProcess(env).start()
        try:
            alice = User(first, "alice")

            async def scenario() -> None:
                on_first = await Socket.open(first, alice.token)
                on_second = await Socket.open(second, alice.token)
                for server in (first, second):
                    refused = await Socket.open(server, alice.token)
                    assert await refused.closed_with() == 4029
                assert await on_first.alive() and await on_second.alive()
                await on_first.close()
                wait_for_socket_count(first, 0)
                replacement = await Socket.open(second, alice.token)
                assert await replacement.alive()
                await replacement.close()
                await on_second.close()

            run(scenario)
        finally:
            first.stop()
            second.stop()
