"""Messages per user through a real server (CONTRACT 12): REST sends and /ws ``message``
frames share one token bucket; over it, REST answers 429 / 42900 with Retry-After and /ws an
``error`` frame with 42900 and the ``client_msg_id``; after Retry-After, sends pass again.

Run on the in-memory defaults and, when REDIS_URL is set, with the bucket in Redis.
"""

import asyncio
import json
import os
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest

from tests.e2e.conftest import Client
from tests.support.server import ServerProcess, sqlite_server

RATE = 5  # messages per second, and the burst
INTERVAL_S = 1 / RATE


def backend_env(backend: str) -> dict[str, str]:
    if backend == "memory":
        return {"REDIS_URL": "", "CHANNEL_LAYER_REDIS_URL": ""}
    # The test run's Redis; a key prefix of its own, so no other bucket is counted with it.
    return {"REDIS_URL": os.environ["REDIS_URL"], "IM_CACHE_PREFIX": f"e2e-{uuid.uuid4().hex}"}


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.requires_redis)])
def server(request, tmp_path):
    server = sqlite_server(
        tmp_path,
        IM_THROTTLE="1",
        IM_RATE_MESSAGES_PER_USER=f"{RATE}/s",
        IM_REQUIRE_FRIENDSHIP="0",
        **backend_env(request.param),
    )
    server.start()
    yield server
    server.stop()


def rest_send(server: ServerProcess, token: str, body: dict) -> tuple[int, dict, Any]:
    """``POST /chat/send``: status, envelope and headers (429 included)."""
    request = urllib.request.Request(
        server.base_url + "/chat/send", data=json.dumps(body).encode(), method="POST"
    )
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read()), response.headers
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), error.headers


async def ws_send(client: Client, body: dict) -> tuple[str, dict]:
    """A ``message`` frame; its answer, ``ack`` or ``error``, for this ``client_msg_id``."""
    await client.send({"type": "message", "data": body})
    while True:
        frame = json.loads(await client.socket.recv())
        if frame["type"] in ("ack", "error") and (
            frame["data"].get("client_msg_id") == body["client_msg_id"]
        ):
            return frame["type"], frame["data"]


class Sender:
    """Alice's sends to bob over REST and /ws, each with a fresh ``client_msg_id``."""

    def __init__(self, server: ServerProcess, alice: Client, bob: Client) -> None:
        self.server, self.alice, self.bob = server, alice, bob
        self.numbers = iter(range(1, 10_000))
        self.refused_ids: list[str] = []

    def body(self, via: str) -> dict:
        return {
            "to_user_id": self.bob.id,
            "chat_type": 0,
            "type": 0,
            "content": "hi",
            "client_msg_id": f"{via}-{next(self.numbers)}",
        }

    def rest(self) -> tuple[bool, int, dict, Any]:
        body = self.body("rest")
        status, answer, headers = rest_send(self.server, self.alice.token, body)
        if answer["code"] != 20000:
            self.refused_ids.append(body["client_msg_id"])
        return answer["code"] == 20000, status, answer, headers

    async def ws(self) -> tuple[bool, dict, str]:
        body = self.body("ws")
        kind, data = await ws_send(self.alice, body)
        if kind != "ack":
            self.refused_ids.append(body["client_msg_id"])
        return kind == "ack", data, body["client_msg_id"]


def stored_client_ids(bob: Client, alice: Client) -> list[str]:
    history = bob.call("GET", f"/chat/history?target_id={alice.id}&chat_type=0&limit=100")
    return [message["client_msg_id"] for message in history["messages"]]


def test_rest_and_ws_sends_share_one_bucket_and_refusals_say_when_to_retry(server):
    alice, bob = Client(server, "alice"), Client(server, "bob")
    asyncio.run(scenario(Sender(server, alice, bob)))


async def scenario(sender: Sender) -> None:
    alice, bob = sender.alice, sender.bob
    await alice.connect()
    try:
        accepted, elapsed, rest_refusal, ws_refusal = await send_until_both_are_refused(sender)
        # The burst, plus at most the tokens refilled while the sends ran.
        assert RATE <= accepted <= RATE + int(elapsed / INTERVAL_S), (accepted, elapsed)

        status, answer, headers = rest_refusal
        assert (status, answer["code"]) == (429, 42900)
        assert answer["message"]
        retry_after = int(headers["Retry-After"])
        assert retry_after == 1  # a token comes within 200 ms; Retry-After is whole seconds
        data, client_msg_id = ws_refusal
        assert data["code"] == 42900 and data["message"]
        assert data["client_msg_id"] == client_msg_id

        # Nothing of a refused send was stored.
        stored = stored_client_ids(bob, alice)
        assert len(stored) == accepted
        assert not set(sender.refused_ids) & set(stored)

        await asyncio.sleep(retry_after)
        assert sender.rest()[0]
        assert (await sender.ws())[0]
        assert len(stored_client_ids(bob, alice)) == accepted + 2
    finally:
        await alice.socket.close()


async def send_until_both_are_refused(sender: Sender) -> tuple[int, float, tuple, tuple]:
    """Alternate REST and /ws sends as fast as they are answered until each has been refused
    once: how many were accepted, in how many seconds, and the first refusal of each."""
    accepted = 0
    rest_refusal = ws_refusal = None
    started = time.monotonic()
    for turn in range(40):
        if turn % 2 == 0:
            ok, status, answer, headers = sender.rest()
            if not ok and rest_refusal is None:
                rest_refusal = (status, answer, headers)
        else:
            ok, data, client_msg_id = await sender.ws()
            if not ok and ws_refusal is None:
                ws_refusal = (data, client_msg_id)
        accepted += ok
        if rest_refusal and ws_refusal:
            break
    assert rest_refusal is not None and ws_refusal is not None, accepted
    return accepted, time.monotonic() - started, rest_refusal, ws_refusal
