"""``LOG_FORMAT=json``: every line a real server prints (the supervisor of ``imserver.serve`` and
its two workers) is one JSON object on stderr, and stdout stays empty; access lines carry the
request's method, path, status and duration; a ``/ws`` connection's lines carry its connection
id and its user id (docs/deployment.md "Logs")."""

import asyncio
import json
import signal
import socket
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from tests.e2e.ws_clients import User
from tests.support.server import ROOT, TEST_SERVER, ServerProcess, free_port, supervisor_command

# Added by the test to the server's database: a conversation's read state can no longer be
# written, so a ``read`` frame fails inside its handler (a real database error, 50000).
FAILING_READS = """
CREATE TRIGGER test_reads_fail_update BEFORE UPDATE ON chat_conversationmember
BEGIN SELECT RAISE(ABORT, 'read state is read-only in this test'); END;
CREATE TRIGGER test_reads_fail_insert BEFORE INSERT ON chat_conversationmember
BEGIN SELECT RAISE(ABORT, 'read state is read-only in this test'); END;
"""


class Supervised:
    """``python -m imserver.serve --workers 2`` with its stdout and stderr in two files."""

    def __init__(self, tmp_path: Path) -> None:
        self.database = tmp_path / "logs.sqlite3"
        self.server = ServerProcess(
            {
                "DATABASE_URL": f"sqlite:///{self.database}",
                "IM_MEDIA_ROOT": str(tmp_path / "media"),
                "IM_THROTTLE": "0",
                "LOG_FORMAT": "json",
                "LOG_LEVEL": "INFO",
            },
            port=free_port(),
        )
        self.server.migrate()
        self.stdout = tmp_path / "stdout.log"
        self.stderr = tmp_path / "stderr.log"
        with open(self.stdout, "wb") as out, open(self.stderr, "wb") as err:
            self.process = subprocess.Popen(
                supervisor_command(self.server.port),
                cwd=ROOT,
                env=self.server.env,
                stdout=out,
                stderr=err,
            )

    def wait_until_serving(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.stderr.read_text()
            try:
                if self.server.request("GET", "/livez")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise TimeoutError("the server did not answer within 30 s")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


@pytest.fixture
def supervised(tmp_path: Path) -> Iterator[Supervised]:
    server = Supervised(tmp_path)
    try:
        server.wait_until_serving()
        yield server
    finally:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(timeout=10)


def body_too_large(port: int) -> bytes:
    """A login declaring a body over the 1 MiB limit: daphne answers 413 before reading it."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 5000000\r\n\r\n"
        )
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


async def refused_handshake(url: str, **options: Any) -> int:
    try:
        connection = await websockets.connect(url, open_timeout=10, **options)
    except InvalidStatus as refused:
        return int(refused.response.status_code)
    await connection.close()
    raise AssertionError(f"{url} was accepted")


async def drive_sockets(server: ServerProcess, reader: User, writer: User, database: Path) -> None:
    base = f"ws://127.0.0.1:{server.port}"
    # A valid token: open, a malformed frame answered with an error frame, a frame whose
    # handler fails, then closed by the client.
    socket_ = await reader.socket()
    try:
        assert (await socket_.answer_to("not json"))["code"] == 40000
        with sqlite3.connect(database) as connection:
            connection.executescript(FAILING_READS)
        failed = await socket_.answer_to(
            {"type": "read", "data": {"chat_type": 0, "target_id": writer.id}}
        )
        assert failed["code"] == 50000
    finally:
        await socket_.close()
    # A token that is not one: accepted, then closed with 4001.
    bad_token = await websockets.connect(f"{base}/ws?token=nonsense", open_timeout=10)
    try:
        await asyncio.wait_for(bad_token.wait_closed(), 10)
    finally:
        await bad_token.close()
    assert bad_token.close_code == 4001
    # Refused handshakes: a browser origin that is not allowed, a path that is not /ws.
    forbidden_origin = {"origin": "https://elsewhere.example"}
    assert await refused_handshake(f"{base}/ws?token={reader.token}", **forbidden_origin) == 403
    assert await refused_handshake(f"{base}/elsewhere") == 403


def parsed_lines(text: str) -> list[dict[str, Any]]:
    entries = []
    for line in text.splitlines():
        entry = json.loads(line)  # every line is JSON ...
        assert isinstance(entry, dict), line  # ... and an object
        assert {"time", "level", "logger", "message"} <= entry.keys(), line
        entries.append(entry)
    return entries


def test_every_line_is_one_json_object_on_stderr(supervised: Supervised) -> None:
    server = supervised.server
    writer, reader = User(server, "logwriter"), User(server, "logreader")
    writer.befriend(reader)
    writer.call("POST", "/chat/send", {"chat_type": 0, "to_user_id": reader.id, "content": "hi"})
    assert server.request("GET", "/no/such/path")[0] == 404
    assert server.request("POST", "/login", {"username": "logwriter"})[0] == 400
    assert server.request("GET", "/user/profile")[0] == 401
    assert body_too_large(server.port).startswith(b"HTTP/1.1 413")
    asyncio.run(drive_sockets(server, reader, writer, supervised.database))

    assert supervised.stop() == 0

    assert supervised.stdout.read_text() == ""
    entries = parsed_lines(supervised.stderr.read_text())

    # The supervisor's own lines, and both workers'.
    supervisor = [e["message"] for e in entries if e["logger"] == "imserver.serve"]
    assert any(m.startswith("serving on") for m in supervisor), supervisor
    assert any(m.startswith("workers stopped") for m in supervisor), supervisor
    # Each worker's server logged its start through logging too.
    server_logger = "uvicorn.error" if TEST_SERVER == "uvicorn" else "daphne.cli"
    assert sum(e["logger"] == server_logger and "tart" in e["message"] for e in entries) == 2

    access = [e for e in entries if e["logger"] == "imserver.access"]
    for entry in access:
        assert {"method", "path", "status", "duration_ms"} <= entry.keys(), entry
        assert isinstance(entry["duration_ms"], float)
    statuses = {(e["method"], e["path"], e["status"]) for e in access}
    assert {
        ("POST", "/register", 200),
        ("POST", "/chat/send", 200),
        ("GET", "/no/such/path", 404),
        ("POST", "/login", 400),
        ("GET", "/user/profile", 401),
        ("POST", "/login", 413),
        ("GET", "/ws", 101),
        ("GET", "/ws", 403),
        ("GET", "/elsewhere", 403),
    } <= statuses, statuses
    assert sum(e["path"] == "/ws" for e in access) == 3  # each handshake once
    assert not any(e["logger"].startswith("twisted.python") for e in entries)

    # The /ws lines: the handshake, open, the failed frame, closed; each with its connection.
    sockets = [e for e in entries if "connection_id" in e]
    assert all("user_id" in e for e in sockets)
    opened = next(e for e in sockets if e["logger"] == "realtime" and " open " in e["message"])
    connection_id = opened["connection_id"]
    assert opened["user_id"] == reader.id
    lines_of_reader = [e for e in sockets if e["connection_id"] == connection_id]
    failure = next(e for e in lines_of_reader if "exc_info" in e)
    assert failure["level"] == "ERROR"
    assert "read state is read-only in this test" in failure["exc_info"]
    assert failure["user_id"] == reader.id
    assert any(" closed with 1000 " in e["message"] for e in lines_of_reader)
    handshake = next(e for e in lines_of_reader if e["logger"] == "imserver.access")
    assert handshake["status"] == 101
    refused = next(e for e in sockets if e["message"] == "socket refused with 4001")
    assert refused["user_id"] is None
    assert refused["connection_id"] != connection_id
    # No two connections share an id.
    handshakes = [e for e in access if "connection_id" in e]
    assert len({e["connection_id"] for e in handshakes}) == len(handshakes) == 4
