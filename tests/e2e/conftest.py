"""Clusters of real server processes and clients that speak REST and /ws to them."""

import asyncio
import json

import pytest
import redis
import websockets

from tests.support.databases import fresh_database_url
from tests.support.redis_dbs import redis_url_for
from tests.support.server import ServerProcess


@pytest.fixture
def cluster(tmp_path):
    """Two daphne processes on free ports with one database and one Redis (a database of
    REDIS_URL's server for this worker alone: tests/support/redis_dbs.py)."""
    redis_url = redis_url_for("e2e_cluster")
    # A fresh database restarts user ids at 1: presence left by an earlier (killed) cluster
    # must not make them look online.
    redis.Redis.from_url(redis_url).flushdb()
    with fresh_database_url(tmp_path, "cluster") as database_url:
        env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "IM_THROTTLE": "0"}
        first, second = ServerProcess(env), ServerProcess(env)
        first.start()
        second.start()
        yield first, second
        first.stop()
        second.stop()


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
