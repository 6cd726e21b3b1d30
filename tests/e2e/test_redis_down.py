"""Redis unreachable under a running server: the requests that need it answer 50001 (503),
an enveloped backing-service failure (CONTRACT 1), never a 500.

The server's REDIS_URL points at a loopback port where nothing listens, so the test runs in
every CI pass, with or without a Redis of its own.
"""

import asyncio
import os

import pytest
import websockets

from tests.e2e.conftest import Client
from tests.support.server import ServerProcess, free_port, sqlite_server


@pytest.fixture
def server_without_redis(tmp_path):
    server = sqlite_server(
        tmp_path,
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
        IM_THROTTLE="1",  # the rate limits of register and login count in Redis
    )
    server.start()
    yield server
    server.stop()


def test_register_and_login_answer_50001_when_redis_is_down(server_without_redis):
    for path, body in (
        ("/register", {"username": "alice", "password": "secret123", "email": "alice@example.com"}),
        ("/login", {"username": "alice", "password": "secret123"}),
    ):
        status, answer = server_without_redis.request("POST", path, body)
        assert (status, answer["code"]) == (503, 50001), (path, answer)
    log = server_without_redis.output()
    assert "Unhandled exception" not in log
    assert "redis unavailable" in log.lower()


def _accounts_then_server_without_redis(
    tmp_path, **env: str
) -> tuple[Client, Client, ServerProcess]:
    """Alice and Bob made through a server without rate limits (nothing there needs Redis),
    then the same database served by one whose rate limits use the unreachable Redis."""
    healthy = sqlite_server(tmp_path, IM_REQUIRE_FRIENDSHIP="0")
    healthy.start()
    try:
        alice, bob = Client(healthy, "alice"), Client(healthy, "bob")
    finally:
        healthy.stop()
    broken = ServerProcess(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'server.sqlite3'}",
            "IM_MEDIA_ROOT": str(tmp_path / "media"),
            "IM_REQUIRE_FRIENDSHIP": "0",
            "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
            "IM_THROTTLE": "1",
            **env,
        }
    ).start()
    alice.server = bob.server = broken
    return alice, bob, broken


def test_a_new_socket_is_closed_with_4011_when_the_channel_layer_is_down(tmp_path):
    alice, _bob, server = _accounts_then_server_without_redis(tmp_path)

    async def connect() -> int | None:
        await alice.connect()
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await alice.socket.recv()
        return closed.value.rcvd.code if closed.value.rcvd else None

    try:
        assert asyncio.run(connect()) == 4011
    finally:
        server.stop()
    assert "joining the push group of user" in server.output()
    assert "Exception inside application" not in server.output()


@pytest.mark.requires_redis
def test_a_ws_message_frame_answers_50001_when_the_rate_limit_redis_is_down(tmp_path):
    """The channel layer on the suite's Redis, the cache and the rate limits on a dead port."""
    alice, bob, server = _accounts_then_server_without_redis(
        tmp_path, CHANNEL_LAYER_REDIS_URL=os.environ["REDIS_URL"]
    )
    send = {"to_user_id": bob.id, "chat_type": 0, "content": "hi", "client_msg_id": "m1"}

    async def send_over_the_socket() -> dict:
        await alice.connect()
        await alice.send({"type": "message", "data": send})
        return await alice.next("error")

    try:
        error = asyncio.run(send_over_the_socket())
    finally:
        server.stop()
    assert (error["code"], error["client_msg_id"]) == (50001, "m1"), error
    assert "frame from user" not in server.output()
