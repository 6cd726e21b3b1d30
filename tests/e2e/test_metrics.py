"""``/metrics`` of real servers: two worker processes (``python -m imserver.serve --workers 2``)
report as one, every counter moves by exactly what the clients did, and the guard refuses a
scraper without the token or an allowed address; a database that cannot be opened is counted.

Without ``REDIS_URL`` each worker delivers pushes to its own sockets only (the in-memory channel
layer), and limits count per worker; with it, the two workers form a cluster. The test learns
which worker serves each socket and each REST send from the workers' own metric files (one per
process in ``PROMETHEUS_MULTIPROC_DIR``) and expects the pushes either way.
"""

import asyncio
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import websockets
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from imserver.fanout_wire import DIRECT_MAX
from tests.e2e.test_serve_workers import worker_pids
from tests.support.databases import fresh_database_url
from tests.support.server import ROOT, ServerProcess, free_port, supervisor_command

TOKEN = "scrape-" + uuid.uuid4().hex
MESSAGE_BURST = 4  # IM_RATE_MESSAGES_PER_USER: the fifth message of a user is refused
CLUSTER = bool(os.environ.get("REDIS_URL"))

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


# --- reading metrics ------------------------------------------------------------------------------
def worker_values(folder: Path) -> dict[int, Samples]:
    """Each worker's own values, from its memory-mapped files: ``{pid: {(name, labels): v}}``."""
    values: dict[int, Samples] = {}
    for path in folder.glob("*.db"):
        pid = int(path.stem.rsplit("_", 1)[1])
        for key, value, _timestamp, _position in MmapedDict.read_all_values_from_file(str(path)):
            _family, name, labels, _help = json.loads(key)
            values.setdefault(pid, {})[name, tuple(sorted(labels.items()))] = value
    return values


def per_worker(folder: Path, name: str, **labels: str) -> dict[int, float]:
    key = (name, tuple(sorted(labels.items())))
    return {pid: samples.get(key, 0.0) for pid, samples in worker_values(folder).items()}


def wait_until(condition: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def get(server: ServerProcess, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(server.base_url + path, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def scrape(server: ServerProcess, **headers: str) -> Samples:
    status, body = get(server, "/metrics", headers)
    assert status == 200, body
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


def family(samples: Samples, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {labels: value for (sample, labels), value in samples.items() if sample == name}


def refused(server: ServerProcess, headers: dict[str, str]) -> bool:
    status, body = get(server, "/metrics", {"Accept-Language": "en", **headers})
    return status == 403 and json.loads(body) == {"code": 40003, "message": "Permission denied"}


# --- the clients ----------------------------------------------------------------------------------
@dataclass
class Socket:
    user: "User"
    connection: Any
    pid: int


@dataclass
class User:
    server: ServerProcess
    name: str
    id: int = 0
    token: str = ""
    sockets: list[Socket] = field(default_factory=list)

    def register(self) -> "User":
        body = {"username": self.name, "password": "secret123", "email": f"{self.name}@e.com"}
        assert self.server.request("POST", "/register", body)[0] == 200
        login = self.server.request(
            "POST", "/login", {"username": self.name, "password": "secret123"}
        )
        self.token = login[1]["data"]["access_token"]
        self.id = self.call("GET", "/user/profile")["id"]
        return self

    def call(self, method: str, path: str, body: dict | None = None) -> Any:
        _status, response = self.server.request(method, path, body, token=self.token)
        assert response["code"] == 20000, (path, response)
        return response["data"]


async def next_frame(socket: Socket, frame_type: str, **expected: Any) -> dict[str, Any]:
    """The next frame of this type whose data holds ``expected``; frames of other types are
    skipped (an ``ack`` before its message's echo)."""
    async with asyncio.timeout(10):
        while True:
            frame = json.loads(await socket.connection.recv())
            data = frame["data"]
            if frame["type"] == frame_type and all(data.get(k) == v for k, v in expected.items()):
                return data
            assert frame["type"] in ("ack", "message"), frame  # nothing else is pushed here


# --- the two-worker server ------------------------------------------------------------------------
@pytest.fixture
def two_workers(tmp_path) -> Iterator[tuple[ServerProcess, Path, subprocess.Popen]]:
    """The supervisor with two workers, its metrics folder (the operator's, given in the
    environment, with a stale file in it) and a ServerProcess that knows the port."""
    folder = tmp_path / "metrics"
    folder.mkdir()
    stale = folder / "counter_4194304.db"
    stale.write_bytes(b"left by an earlier run")
    with fresh_database_url(tmp_path, "metrics") as database_url:
        env = {
            "DATABASE_URL": database_url,
            "PROMETHEUS_MULTIPROC_DIR": str(folder),
            "IM_METRICS_ALLOW": "10.0.0.0/8",  # not loopback: only the token reads
            "IM_METRICS_TOKEN": TOKEN,
            "IM_THROTTLE": "1",
            "IM_RATE_MESSAGES_PER_USER": f"{MESSAGE_BURST}/h",
            "IM_REQUIRE_FRIENDSHIP": "0",  # no friends: no presence pushes
            "IM_CACHE_PREFIX": f"metrics-{uuid.uuid4().hex[:8]}",  # fresh limits on Redis
        }
        server = ServerProcess(env, port=free_port())
        process = subprocess.Popen(
            supervisor_command(server.port),
            cwd=ROOT,
            env=server.env,
            stdout=subprocess.DEVNULL,
            stderr=server.log,
        )
        try:
            wait_until(lambda: len(worker_pids(process.pid)) == 2, timeout=30)
            wait_until(lambda: _answers(server), timeout=30)
            assert not stale.exists()
            yield server, folder, process
        finally:
            process.terminate()
            process.wait(timeout=20)
    # The supervisor dropped the live gauges of its workers; the operator's folder is kept.
    assert folder.is_dir() and not list(folder.glob("gauge_livesum_*.db"))


def _answers(server: ServerProcess) -> bool:
    try:
        return get(server, "/livez", {})[0] == 200
    except OSError:
        return False


def test_two_workers_report_every_counter_as_one(two_workers):
    server, folder, process = two_workers
    workers = set(worker_pids(process.pid))
    alice, bob, carol, dave = (
        User(server, name).register() for name in ("alice", "bob", "carol", "dave")
    )
    extras = [User(server, f"extra{n}").register() for n in range(DIRECT_MAX)]
    small = alice.call("POST", "/group/create", {"group_name": "small"})["group_id"]
    alice.call("POST", "/group/invite", {"group_id": small, "user_ids": [bob.id, carol.id]})
    crowd = alice.call("POST", "/group/create", {"group_name": "crowd"})["group_id"]
    members = [bob.id, carol.id, *(extra.id for extra in extras)]
    alice.call("POST", "/group/invite", {"group_id": crowd, "user_ids": members})
    assert len(members) + 1 > DIRECT_MAX  # the crowd's pushes go through the fan-out group
    group_members = {small: [alice, bob, carol], crowd: [alice, bob, carol, *extras]}

    sockets: list[Socket] = []
    delivered = 0
    sends: dict[tuple[str, str], int] = {}

    async def open_socket(user: User) -> Socket:
        before = per_worker(folder, "imserver_open_sockets")
        connection = await websockets.connect(
            f"ws://127.0.0.1:{server.port}/ws?token={user.token}", open_timeout=10
        )
        changed: list[int] = []

        def registered() -> bool:
            now = per_worker(folder, "imserver_open_sockets")
            changed[:] = [pid for pid in now if now[pid] == before.get(pid, 0) + 1]
            return len(changed) == 1

        wait_until(registered)
        socket = Socket(user, connection, changed[0])
        user.sockets.append(socket)
        sockets.append(socket)
        return socket

    def receivers(recipients: list[User], pid: int) -> list[Socket]:
        """The sockets a push from worker ``pid`` reaches."""
        return [s for u in recipients for s in u.sockets if CLUSTER or s.pid == pid]

    async def arrived(recipients: list[User], pid: int, content: str) -> None:
        nonlocal delivered
        for socket in receivers(recipients, pid):
            await next_frame(socket, "message", content=content)
            delivered += 1

    def count_send(path: str, chat_type: str) -> None:
        sends[path, chat_type] = sends.get((path, chat_type), 0) + 1

    async def rest_send(sender: User, body: dict[str, Any], recipients: list[User]) -> None:
        before = per_worker(
            folder, "imserver_messages_sent_total", path="rest", chat_type=kind(body)
        )
        sender.call("POST", "/chat/send", body)
        after = per_worker(
            folder, "imserver_messages_sent_total", path="rest", chat_type=kind(body)
        )
        (pid,) = [p for p in after if after[p] == before.get(p, 0) + 1]  # the worker that served it
        count_send("rest", kind(body))
        await arrived(recipients, pid, body["content"])

    async def ws_send(socket: Socket, body: dict[str, Any], recipients: list[User]) -> None:
        await socket.connection.send(json.dumps({"type": "message", "data": body}))
        await next_frame(socket, "ack", client_msg_id=body["client_msg_id"])
        count_send("ws", kind(body))
        await arrived(recipients, socket.pid, body["content"])

    async def scenario() -> Samples:
        for user, count in ((alice, 3), (bob, 3), (carol, 2), (dave, 1)):
            for _ in range(count):
                await open_socket(user)
        for _ in range(10):  # bounded: until both workers hold sockets
            if {s.pid for s in sockets} == workers:
                break
            await open_socket(carol)
        # Both workers serve sockets, as their own files say.
        open_by_worker = per_worker(folder, "imserver_open_sockets")
        assert {pid for pid, n in open_by_worker.items() if n > 0} == workers

        await rest_send(alice, private(bob, "rest private"), [alice, bob])
        await rest_send(alice, group(small, "rest group"), group_members[small])
        await rest_send(carol, group(crowd, "rest crowd"), group_members[crowd])
        await ws_send(
            bob.sockets[0], private(alice, "ws private", client_msg_id="b1"), [bob, alice]
        )
        await ws_send(
            alice.sockets[1], group(small, "ws group", client_msg_id="a1"), group_members[small]
        )
        await ws_send(
            bob.sockets[1], group(crowd, "ws crowd", client_msg_id="b2"), group_members[crowd]
        )
        (dave_socket,) = dave.sockets
        for n in range(MESSAGE_BURST):
            body = private(bob, f"dave {n}", client_msg_id=f"d{n}")
            await ws_send(dave_socket, body, [dave, bob])
        await dave_socket.connection.send(
            json.dumps(
                {"type": "message", "data": private(bob, "one too many", client_msg_id="dx")}
            )
        )
        refusal = await next_frame(dave_socket, "error", client_msg_id="dx")
        assert refusal["code"] == 42900

        # The scraper: refused without the token (loopback is not in the allow list).
        assert refused(server, {})
        assert refused(server, {"Authorization": "Bearer not-" + TOKEN})
        # Every delivery and lane call has been recorded (pushes are counted once written).
        wait_until(
            lambda: sum(per_worker(folder, "imserver_pushes_delivered_total").values()) == delivered
        )
        wait_until(lambda: sum(per_worker(folder, "imserver_lane_queue_depth").values()) == 0)
        samples = scrape(server, Authorization=f"Bearer {TOKEN}")  # the one scrape
        for socket in sockets:
            await socket.connection.close()
        return samples

    samples = asyncio.run(scenario())

    def total(name: str, **labels: str) -> float:
        return samples.get((name, tuple(sorted(labels.items()))), 0.0)

    stored = sum(sends.values())
    assert stored == 6 + MESSAGE_BURST
    assert family(samples, "imserver_messages_sent_total") == {
        (("chat_type", "private"), ("path", "rest")): 1,
        (("chat_type", "group"), ("path", "rest")): 2,
        (("chat_type", "private"), ("path", "ws")): 1 + MESSAGE_BURST,
        (("chat_type", "group"), ("path", "ws")): 2,
    }
    assert total("imserver_open_sockets") == len(sockets)
    assert total("imserver_pushes_delivered_total") == delivered
    assert delivered >= 2 * stored  # every message reached its sender's and a recipient's socket
    assert family(samples, "imserver_pushes_failed_total") == {
        (("stage", "channel_layer"),): 0,
        (("stage", "socket"),): 0,
    }
    assert family(samples, "imserver_rate_limit_refusals_total") == {
        (("limit", "message-user"),): 1
    }
    assert set(family(samples, "imserver_backend_errors_total").values()) == {0}
    # Sent one after another: every batch held one send.
    assert total("imserver_group_commit_batch_size_count") == stored
    assert total("imserver_group_commit_batch_size_sum") == stored
    assert total("imserver_group_commit_batch_size_bucket", le="1.0") == stored

    users = 4 + DIRECT_MAX
    assert total("imserver_http_requests_total", route="/register", status="200") == users
    assert total("imserver_http_requests_total", route="/login", status="200") == users
    assert total("imserver_http_requests_total", route="/chat/send", status="200") == 3
    assert total("imserver_http_request_duration_seconds_count", route="/chat/send") == 3
    assert total("imserver_http_requests_total", route="/metrics", status="403") == 2
    assert total("imserver_http_requests_total", route="/metrics", status="200") == 0  # this one
    answered = sum(family(samples, "imserver_http_requests_total").values())
    assert answered == sum(family(samples, "imserver_http_request_duration_seconds_count").values())
    # Each request, each socket's handshake and each message frame ran its synchronous code on
    # a lane at least once.
    frames = sends["ws", "private"] + sends["ws", "group"] + 1
    assert total("imserver_lane_wait_seconds_count") >= answered + len(sockets) + frames
    assert total("imserver_lane_queue_depth") == 0


def kind(body: dict[str, Any]) -> str:
    return "group" if body["chat_type"] == 1 else "private"


def private(to: User, text: str, **extra: str) -> dict[str, Any]:
    return {"to_user_id": to.id, "chat_type": 0, "content": text, **extra}


def group(group_id: int, text: str, **extra: str) -> dict[str, Any]:
    return {"group_id": group_id, "chat_type": 1, "content": text, **extra}


def test_an_unavailable_database_is_counted_and_loopback_reads_by_default(tmp_path):
    server = ServerProcess(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'no-such-folder' / 'db.sqlite3'}",
            "IM_THROTTLE": "0",
            "IM_METRICS_TOKEN": "",
        }
    )
    server.start()
    try:
        body = {"username": "nobody", "password": "secret123", "email": "nobody@e.com"}
        for _ in range(2):
            status, answer = server.request("POST", "/register", body)
            assert (status, answer["code"]) == (503, 50001)
        samples = scrape(server)  # from 127.0.0.1, without a token: the default allow list
    finally:
        server.stop()
    assert family(samples, "imserver_backend_errors_total")[(("backend", "database"),)] == 2
    assert samples["imserver_http_requests_total", (("route", "/register"), ("status", "503"))] == 2
