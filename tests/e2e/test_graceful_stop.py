"""SIGTERM stops a worker gracefully: daphne cancels every open socket's consumer (uvicorn closes
every socket with 1012 and waits for its consumer), whose cleanup runs (registry, push group,
presence) and logs the socket's close, also right after a handshake.

Stock daphne 4.2.3 reads ``application_instance`` of every connection it tracks when it stops;
the HTTP request that carried a ``/ws`` upgrade stays tracked without one for up to a second, and
the KeyError ends the shutdown step before any consumer is cancelled, unless the
``daphne_shutdown`` override is installed (imserver/overrides/daphne_shutdown.py).
"""

import asyncio
import re

from tests.e2e.conftest import Client
from tests.support.server import TEST_SERVER, sqlite_server


def test_sigterm_right_after_a_handshake_still_closes_every_socket(tmp_path):
    server = sqlite_server(tmp_path)
    server.start()
    alice, bob = Client(server, "alice"), Client(server, "bob")

    async def open_two_sockets_then_stop() -> None:
        await alice.connect()
        await bob.connect()
        await alice.send({"type": "ping"})
        await alice.next("pong")
        server.process.terminate()  # within the second after bob's handshake
        await asyncio.to_thread(server.process.wait, 10)

    try:
        asyncio.run(open_two_sockets_then_stop())
    finally:
        server.stop()
    log = server.output()
    if TEST_SERVER == "daphne":
        assert "While calling system event trigger handler" not in log, log
        assert "Killed 2 pending application instances" in log, log
    else:
        assert "Cancel " not in log, log  # uvicorn's graceful stop did not run out of time
    assert server.process.returncode == 0, log
    closed = re.findall(r"socket \S+ of user (\d+) closed", log)
    assert sorted(map(int, closed)) == sorted([alice.id, bob.id]), log
