"""A socket that sends ``message`` frames without waiting for their answers, through a real
server: the frames read ahead while one is handled are stored together (one group-commit batch
for several of them), and every frame is still answered in the order it was sent, with ``seq``
in that order, and pushed in that order. Frames a client sent before it closed are stored.
"""

import asyncio
import json
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import Client
from tests.support.server import ServerProcess, sqlite_server

FRAMES = 40
EMPTY_AT = 10  # a send refused by the service (empty content), answered with its client_msg_id
UNKNOWN_AT = 20  # an unknown frame type, refused before it is queued, answered in its turn


@pytest.fixture(params=["16", "1"], ids=["ahead-16", "ahead-1"])
def server(request, tmp_path):
    server = sqlite_server(tmp_path, IM_REQUIRE_FRIENDSHIP="0", IM_WS_FRAMES_AHEAD=request.param)
    server.start()
    yield server
    server.stop()


def batches_stored(server: ServerProcess) -> float:
    """``imserver_group_commit_batch_size``'s count: transactions group commit has run."""
    with urllib.request.urlopen(server.base_url + "/metrics", timeout=10) as response:
        text = response.read().decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "imserver_group_commit_batch_size_count":
                return sample.value
    return 0


def frame(bob: Client, number: int) -> dict:
    if number == UNKNOWN_AT:
        return {"type": "no-such-frame", "data": {}}
    content = "" if number == EMPTY_AT else f"m-{number}"
    body = {"to_user_id": bob.id, "chat_type": 0, "type": 0, "content": content}
    return {"type": "message", "data": {**body, "client_msg_id": f"c-{number}"}}


async def answers(client: Client, count: int) -> list[dict]:
    """The next ``count`` ``ack`` and ``error`` frames, in arrival order."""
    found: list[dict] = []
    async with asyncio.timeout(30):
        while len(found) < count:
            received = json.loads(await client.socket.recv())
            if received["type"] in ("ack", "error"):
                found.append(received)
    return found


def test_pipelined_frames_are_stored_together_and_answered_in_order(server):
    alice, bob = Client(server, "alice"), Client(server, "bob")

    async def scenario() -> None:
        await alice.connect()
        await bob.connect()
        try:
            before = batches_stored(server)
            for number in range(FRAMES):  # all written before any answer is read
                await alice.send(frame(bob, number))
            answered = await answers(alice, FRAMES)

            kinds = [answer["type"] for answer in answered]
            refused = {EMPTY_AT, UNKNOWN_AT}
            assert kinds == ["error" if n in refused else "ack" for n in range(FRAMES)]
            assert answered[EMPTY_AT]["data"]["client_msg_id"] == f"c-{EMPTY_AT}"
            assert answered[EMPTY_AT]["data"]["code"] == 40000
            assert answered[UNKNOWN_AT]["data"]["code"] == 40000
            assert "client_msg_id" not in answered[UNKNOWN_AT]["data"]
            acks = [answer["data"] for answer in answered if answer["type"] == "ack"]
            sent = [n for n in range(FRAMES) if n not in refused]
            assert [ack["client_msg_id"] for ack in acks] == [f"c-{n}" for n in sent]
            assert [ack["seq"] for ack in acks] == list(range(1, len(sent) + 1))

            pushed = [(await bob.next("message"))["content"] for _ in sent]
            assert pushed == [f"m-{n}" for n in sent]
            if server.env["IM_WS_FRAMES_AHEAD"] != "1":  # read ahead: several sends a batch
                assert batches_stored(server) - before < len(sent) / 2
        finally:
            await alice.socket.close()
            await bob.socket.close()

    asyncio.run(scenario())


def test_frames_sent_right_before_the_client_closes_are_stored(server):
    alice, bob = Client(server, "alice"), Client(server, "bob")

    async def scenario() -> None:
        await alice.connect()
        for number in range(EMPTY_AT):  # the frames before the refused one: all valid
            await alice.send(frame(bob, number))
        await alice.socket.close()

    asyncio.run(scenario())
    query = f"/chat/history?target_id={alice.id}&chat_type=0&limit=100"

    async def stored() -> list[str]:
        async with asyncio.timeout(10):
            while True:
                messages = bob.call("GET", query)["messages"]
                if len(messages) >= EMPTY_AT:
                    return sorted(m["content"] for m in messages)
                await asyncio.sleep(0.05)

    assert asyncio.run(stored()) == sorted(f"m-{n}" for n in range(EMPTY_AT))
