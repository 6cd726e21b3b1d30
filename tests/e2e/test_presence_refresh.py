"""Presence through a real server: each process refreshes the entries of all its sockets every
``IM_PRESENCE_TTL_S / 3``, so a user with an open socket stays online past the TTL."""

import asyncio
import time
from pathlib import Path

from tests.e2e.ws_clients import User
from tests.support.server import sqlite_server


def test_a_user_stays_online_past_the_presence_ttl_while_the_socket_is_open(tmp_path: Path):
    server = sqlite_server(tmp_path, IM_PRESENCE_TTL_S="1")
    server.start()
    try:
        alice, bob = User(server, "alice"), User(server, "bob")
        bob.befriend(alice)

        def alice_online() -> int:
            friends = bob.call("GET", "/friend/list")["friends"]
            return next(f["online_status"] for f in friends if f["friend_id"] == alice.id)

        async def scenario() -> None:
            socket = await alice.socket()
            await asyncio.sleep(2.5)  # beyond the TTL: only the refresh keeps the entry
            assert alice_online() == 1
            await socket.close()
            deadline = time.monotonic() + 5
            while alice_online() != 0:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.1)

        asyncio.run(scenario())
    finally:
        server.stop()
    assert "Traceback" not in server.output()
