"""The channel layer's Redis restarts under an open socket: pushes resume once it is back.

With the pub/sub layer every server process holds its subscriptions on one Redis connection;
after a restart they must be made again, or connected users would silently stop receiving.
The test runs its own redis-server on a free port, so it can stop and start it.
"""

import asyncio
import os
import shutil
import subprocess
import time

import pytest
import redis

from tests.e2e.conftest import Client
from tests.support.server import free_port, sqlite_server

pytestmark = pytest.mark.requires_redis


class RedisServer:
    """A throwaway redis-server on ``port`` that keeps nothing on disk."""

    def __init__(self, port: int, folder: str) -> None:
        self.port, self.folder = port, folder
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.folder,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.mark.skipif(
    not (shutil.which("redis-server") or os.path.exists("/usr/bin/redis-server")),
    reason="redis-server is not installed",
)
def test_pushes_resume_after_the_channel_layer_redis_restarts(tmp_path):
    layer_redis = RedisServer(free_port(), str(tmp_path))
    layer_redis.start()
    server = sqlite_server(
        tmp_path,
        REDIS_URL=os.environ["REDIS_URL"],
        CHANNEL_LAYER_REDIS_URL=f"redis://127.0.0.1:{layer_redis.port}/0",
        IM_CHANNEL_LAYER="pubsub",  # the "lists" layer closes sockets (1011) when Redis goes
        IM_REQUIRE_FRIENDSHIP="0",
    )
    server.start()
    try:
        alice, bob = Client(server, "alice"), Client(server, "bob")

        async def scenario() -> None:
            await bob.connect()
            alice.call("POST", "/chat/send", {"to_user_id": bob.id, "content": "before"})
            assert (await bob.next("message"))["content"] == "before"

            layer_redis.stop()
            # Sent while the layer is down: stored, not pushed (bob catches up with after_seq).
            alice.call("POST", "/chat/send", {"to_user_id": bob.id, "content": "during"})
            layer_redis.start()

            deadline = time.monotonic() + 20
            while True:  # the subscriptions come back within a few seconds
                alice.call("POST", "/chat/send", {"to_user_id": bob.id, "content": "after"})
                try:
                    frame = await bob.next("message", timeout=1)
                except TimeoutError:
                    assert time.monotonic() < deadline, "pushes did not resume"
                    continue
                assert frame["content"] == "after"
                break
            await bob.socket.close()

        asyncio.run(scenario())
    finally:
        server.stop()
        layer_redis.stop()
