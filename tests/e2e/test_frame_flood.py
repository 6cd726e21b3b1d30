"""A client that writes frames faster than the server handles them, through a real server: the
server's memory does not follow it, and every frame is still answered.

On uvicorn the protocol stops reading until the application has taken what it read; daphne
queues every frame it reads without bound, and the ``daphne_limits`` override pauses reading
once ``IM_WS_FRAMES_AHEAD`` frames wait there. Either way TCP holds the client back.
"""

import asyncio
import json
import sys
from pathlib import Path

import pytest
import websockets

from tests.e2e.conftest import Client
from tests.support.server import sqlite_server

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc/<pid>/status"
)

FRAMES = 2000
# Under the 64 KiB frame limit: 2,000 of them are about 115 MiB.
PING = json.dumps({"type": "ping", "data": {"pad": "a" * 60_000}})
MAX_GROWTH_MIB = 48


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.fixture
def server(tmp_path):
    server = sqlite_server(tmp_path)
    server.start()
    yield server
    server.stop()


def test_a_flood_of_frames_is_held_back_by_tcp_not_buffered_by_the_server(server):
    client = Client(server, "flood")
    pid = server.process.pid
    baseline = rss_mib(pid)
    peak = baseline

    async def scenario() -> int:
        nonlocal peak
        url = f"ws://127.0.0.1:{server.port}/ws?token={client.token}"
        async with websockets.connect(url, max_size=None, open_timeout=10) as socket:

            async def write() -> None:
                for _ in range(FRAMES):
                    await socket.send(PING)

            async def count_pongs() -> int:
                pongs = 0
                while pongs < FRAMES:
                    if json.loads(await socket.recv())["type"] == "pong":
                        pongs += 1
                return pongs

            async def watch() -> None:
                nonlocal peak
                while True:
                    peak = max(peak, rss_mib(pid))
                    await asyncio.sleep(0.02)

            watcher = asyncio.create_task(watch())
            try:
                async with asyncio.timeout(60):
                    _written, pongs = await asyncio.gather(write(), count_pongs())
            finally:
                watcher.cancel()
            return pongs

    assert asyncio.run(scenario()) == FRAMES
    growth = peak - baseline
    assert growth < MAX_GROWTH_MIB, f"RSS grew {growth:.0f} MiB from {baseline:.0f} MiB"
