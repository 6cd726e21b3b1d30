"""A server process is killed mid-run: no acknowledged message is lost or stored twice."""

import asyncio
import json
import random

import pytest
import websockets

from tests.e2e.conftest import Client

pytestmark = [pytest.mark.requires_redis, pytest.mark.requires_postgres]

PER_CLIENT = 25


class Sender:
    """Sends numbered messages into the group over /ws, one at a time, resending unacked ones
    with the same client_msg_id after a reconnect (to the surviving server)."""

    def __init__(self, client: Client, group_id: int) -> None:
        self.client = client
        self.group_id = group_id
        self.acked: dict[str, int] = {}  # client_msg_id -> message_id
        self.seen_seqs: set[int] = set()
        self.reconnects = 0

    async def run(self, survivor_port: int, kill_event: asyncio.Event) -> None:
        number = 0
        while number < PER_CLIENT:
            client_msg_id = f"{self.client.username}-{number}"
            try:
                await self.client.send(
                    {
                        "type": "message",
                        "data": {
                            "group_id": self.group_id,
                            "chat_type": 1,
                            "content": client_msg_id,
                            "client_msg_id": client_msg_id,
                        },
                    }
                )
                ack = await self._ack_for(client_msg_id)
            except (websockets.ConnectionClosed, OSError, TimeoutError):
                await self._reconnect(survivor_port)
                continue  # resend the same client_msg_id
            self.acked[client_msg_id] = ack["message_id"]
            number += 1
            if len(self.acked) == PER_CLIENT // 2:
                kill_event.set()
            await asyncio.sleep(random.uniform(0, 0.01))

    async def _ack_for(self, client_msg_id: str) -> dict:
        async with asyncio.timeout(5):
            while True:
                frame = json.loads(await self.client.socket.recv())
                if frame["type"] == "message":
                    self.seen_seqs.add(frame["data"]["seq"])
                elif frame["type"] == "ack" and frame["data"]["client_msg_id"] == client_msg_id:
                    return frame["data"]

    async def _reconnect(self, port: int) -> None:
        self.reconnects += 1
        url = f"ws://127.0.0.1:{port}/ws?token={self.client.token}"
        self.client.socket = await websockets.connect(url, open_timeout=10)


def test_no_acknowledged_message_is_lost_when_a_process_dies(cluster):
    one, two = cluster
    clients = [Client(one, "ann1"), Client(one, "ann2"), Client(two, "ben1"), Client(two, "ben2")]
    owner = clients[0]
    group_id = owner.call("POST", "/group/create", {"group_name": "crash test"})["group_id"]
    owner.call(
        "POST", "/group/invite", {"group_id": group_id, "user_ids": [c.id for c in clients[1:]]}
    )
    senders = [Sender(client, group_id) for client in clients]

    async def scenario() -> None:
        for client in clients:
            await client.connect()
        kill_event = asyncio.Event()

        async def killer() -> None:
            await kill_event.wait()
            one.kill()

        await asyncio.gather(killer(), *(s.run(two.port, kill_event) for s in senders))
        for client in clients:
            await client.socket.close()

    asyncio.run(scenario())

    assert one.process.poll() is not None  # it really died mid-run
    assert senders[0].reconnects >= 1 and senders[1].reconnects >= 1

    # Each client recovers everything it missed with after_seq, through the survivor.
    total = PER_CLIENT * len(clients)
    for sender in senders:
        sender.client.server = two
        after, recovered = 0, []
        while True:
            page = sender.client.call(
                "GET", f"/chat/history?target_id={group_id}&chat_type=1&after_seq={after}&limit=100"
            )
            recovered += page["messages"]
            if not page["hasMore"]:
                break
            after = page["messages"][-1]["seq"]
        seqs = [m["seq"] for m in recovered]
        assert seqs == list(range(1, total + 1))  # gap-free, no duplicates
        stored = {m["client_msg_id"]: m["id"] for m in recovered}
        assert len(stored) == total  # every message stored exactly once
        for other in senders:  # and every acknowledged one is there, with the acked id
            for client_msg_id, message_id in other.acked.items():
                assert stored[client_msg_id] == message_id
