"""Two real server processes share Redis and the database; users on either see each other."""

import asyncio
import json
import os
import uuid

import pytest
import websockets

from tests.support.server import ServerProcess

pytestmark = pytest.mark.requires_redis


@pytest.fixture
def cluster(tmp_path):
    """Two daphne processes on free ports with one database and one Redis (db 14 of REDIS_URL)."""
    redis_url = os.environ["REDIS_URL"].rsplit("/", 1)[0] + "/14"
    database_url = os.environ.get("DATABASE_URL", "")
    if database_url.startswith("postgres"):
        name = f"im_e2e_{uuid.uuid4().hex[:8]}"
        admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
        _psql(admin_url, f"CREATE DATABASE {name}")
        database_url = database_url.rsplit("/", 1)[0] + f"/{name}"
    else:
        name, admin_url = None, None
        database_url = f"sqlite:///{tmp_path / 'cluster.sqlite3'}"
    env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "IM_THROTTLE": "0"}
    first, second = ServerProcess(env), ServerProcess(env)
    first.migrate()
    first.start()
    second.start()
    yield first, second
    first.stop()
    second.stop()
    if name:
        _psql(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _psql(url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(statement)


class Client:
    """One user against one server: REST calls and a WebSocket."""

    def __init__(self, server: ServerProcess, username: str) -> None:
        self.server = server
        self.username = username
        body = {"username": username, "password": "secret123", "email": f"{username}@e.com"}
        assert server.request("POST", "/register", body)[0] == 200
        _status, login = server.request(
            "POST", "/login", {"username": username, "password": "secret123"}
        )
        self.token = login["data"]["access_token"]
        _status, profile = server.request("GET", "/user/profile", token=self.token)
        self.id = profile["data"]["id"]
        self.socket = None

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        _status, response = self.server.request(method, path, body, token=self.token)
        assert response["code"] == 20000, (path, response)
        return response["data"]

    async def connect(self) -> None:
        url = f"ws://127.0.0.1:{self.server.port}/ws?token={self.token}"
        self.socket = await websockets.connect(url, open_timeout=10)

    async def send(self, frame: dict) -> None:
        await self.socket.send(json.dumps(frame))

    async def next(self, frame_type: str, timeout: float = 5) -> dict:
        async with asyncio.timeout(timeout):
            while True:
                frame = json.loads(await self.socket.recv())
                if frame["type"] == frame_type:
                    return frame["data"]


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
