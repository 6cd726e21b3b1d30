"""Two real server processes share Redis and the database; users on either see each other."""

import asyncio
import os
import re
import urllib.request

import pytest

from imserver.fanout_wire import DIRECT_MAX
from tests.e2e.conftest import Client
from tests.support.server import ServerProcess

pytestmark = pytest.mark.requires_redis


def test_everything_crosses_between_two_server_processes(cluster):
    one, two = cluster
    alice, bob, carol = Client(one, "alice"), Client(two, "bob"), Client(two, "carol")
    request_id = alice.call("POST", "/friend/request/send", {"to_user_id": bob.id})["request_id"]
    bob.call("POST", "/friend/request/handle", {"request_id": request_id, "action": 2})

    async def scenario() -> None:
        await bob.connect()
        await carol.connect()
        await alice.connect()
        assert await bob.next("presence") == {"user_id": alice.id, "online_status": 1}

        await alice.send(
            {
                "type": "message",
                "data": {
                    "to_user_id": bob.id,
                    "chat_type": 0,
                    "content": "across",
                    "client_msg_id": "x1",
                },
            }
        )
        ack = await alice.next("ack")
        message = await bob.next("message")
        assert (message["message_id"], message["content"]) == (ack["message_id"], "across")

        bob.call("POST", "/chat/read", {"target_id": alice.id, "chat_type": 0})
        assert (await alice.next("read"))["read_seq"] == ack["seq"]

        alice.call("POST", "/chat/message/recall", {"message_id": ack["message_id"]})
        assert (await bob.next("recall"))["message_id"] == ack["message_id"]

        group_id = alice.call("POST", "/group/create", {"group_name": "crew"})["group_id"]
        alice.call("POST", "/group/invite", {"group_id": group_id, "user_ids": [bob.id, carol.id]})
        assert (await carol.next("group_notification"))["type"] == 4
        alice.call(
            "POST", "/chat/send", {"group_id": group_id, "chat_type": 1, "content": "all hands"}
        )
        for member in (bob, carol):
            pushed = await member.next("message")
            assert (pushed["group_id"], pushed["content"]) == (group_id, "all hands")

        await alice.socket.close()
        assert await bob.next("presence") == {"user_id": alice.id, "online_status": 0}
        await bob.socket.close()
        await carol.socket.close()

    asyncio.run(scenario())


def test_a_big_group_message_reaches_members_on_both_processes_once(cluster):
    one, two = cluster
    owner = Client(one, "owner")
    members = [Client(one if n % 2 else two, f"member{n}") for n in range(DIRECT_MAX + 2)]
    group_id = owner.call("POST", "/group/create", {"group_name": "crowd"})["group_id"]
    owner.call("POST", "/group/invite", {"group_id": group_id, "user_ids": [m.id for m in members]})
    connected = members[:2] + members[-2:]  # on both processes

    async def scenario() -> None:
        for member in connected:
            await member.connect()
        owner.call("POST", "/chat/send", {"group_id": group_id, "chat_type": 1, "content": "all"})
        for member in connected:
            pushed = await member.next("message")
            assert (pushed["group_id"], pushed["content"]) == (group_id, "all")
        for member in connected:
            with pytest.raises(TimeoutError):  # exactly once
                await member.next("message", timeout=0.3)
            await member.socket.close()

    asyncio.run(scenario())


def pushes_kept_local(server: ServerProcess) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=5) as reply:
        text = reply.read().decode()
    found = re.search(r"^imserver_pushes_local_total (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_local_delivery_gives_each_socket_every_push_once_in_order(cluster):
    """Bob's first socket is on the process Alice sends through, so her messages skip Redis
    (local delivery); while his second socket is on the other process they go through Redis;
    once it has left they skip Redis again. Each socket gets each message once, in seq order."""
    if os.environ.get("IM_CHANNEL_LAYER", "pubsub") != "pubsub":
        pytest.skip("local delivery works with the pub/sub layer (IM_CHANNEL_LAYER=pubsub)")
    one, two = cluster
    alice, bob_here = Client(one, "alice"), Client(one, "bob")
    bob_there = Client(two, "bob2")
    bob_there.token, bob_there.id = bob_here.token, bob_here.id  # the same user on two
    request_id = alice.call("POST", "/friend/request/send", {"to_user_id": bob_here.id})
    bob_here.call(
        "POST", "/friend/request/handle", {"request_id": request_id["request_id"], "action": 2}
    )

    def send(count: int) -> list[int]:
        body = {"to_user_id": bob_here.id, "chat_type": 0, "content": "m"}
        return [alice.call("POST", "/chat/send", body)["seq"] for _ in range(count)]

    async def seqs(client: Client, count: int) -> list[int]:
        return [(await client.next("message"))["seq"] for _ in range(count)]

    async def scenario() -> None:
        await bob_here.connect()
        first = send(5)  # the first one shows the listener's subscription is live
        assert await seqs(bob_here, 5) == first
        local_before = pushes_kept_local(one)
        alone = send(10)
        assert await seqs(bob_here, 10) == alone
        assert pushes_kept_local(one) - local_before == 10

        await bob_there.connect()
        await asyncio.sleep(0.2)  # its subscription reaches Redis
        local_before = pushes_kept_local(one)
        shared = send(10)
        assert await seqs(bob_here, 10) == shared
        assert await seqs(bob_there, 10) == shared
        assert pushes_kept_local(one) == local_before  # they went through Redis

        await bob_there.socket.close()
        await asyncio.sleep(0.2)
        again = send(10)
        assert await seqs(bob_here, 10) == again
        with pytest.raises(TimeoutError):  # exactly once
            await bob_here.next("message", timeout=0.3)
        await bob_here.socket.close()

    asyncio.run(scenario())


def test_sends_survive_a_dead_channel_layer_and_are_recovered_with_after_seq(tmp_path):
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'dead-layer.sqlite3'}",
        "REDIS_URL": os.environ["REDIS_URL"],
        "CHANNEL_LAYER_REDIS_URL": "redis://127.0.0.1:1/0",  # nothing listens there
        "IM_REQUIRE_FRIENDSHIP": "0",
    }
    server = ServerProcess(env)
    server.migrate()
    server.start()
    try:
        alice, bob = Client(server, "alice"), Client(server, "bob")
        sent = [
            alice.call(
                "POST", "/chat/send", {"to_user_id": bob.id, "chat_type": 0, "content": f"kept {n}"}
            )
            for n in range(3)
        ]
        assert [m["seq"] for m in sent] == [1, 2, 3]
        page = bob.call("GET", f"/chat/history?target_id={alice.id}&chat_type=0&after_seq=1")
        assert [m["content"] for m in page["messages"]] == ["kept 1", "kept 2"]
    finally:
        server.stop()
