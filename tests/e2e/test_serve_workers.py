"""``python -m imserver.serve --workers N``: N server processes sharing one port."""

import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import ROOT, ServerProcess, free_port, supervisor_command


def worker_pids(parent: int) -> list[int]:
    path = Path(f"/proc/{parent}/task/{parent}/children")
    return [int(pid) for pid in path.read_text().split()] if path.exists() else []


def gone(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    return not status.exists() or "zombie" in status.read_text()


@pytest.fixture
def two_workers(tmp_path) -> Iterator[tuple[subprocess.Popen, ServerProcess]]:
    """The supervisor process, and a ServerProcess that only knows the port (for requests)."""
    port = free_port()
    server = ServerProcess({"DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}"}, port=port)
    server.migrate()
    process = subprocess.Popen(
        supervisor_command(port),
        cwd=ROOT,
        env=server.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(worker_pids(process.pid)) < 2:
        time.sleep(0.1)
    yield process, server
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)


def test_two_workers_serve_one_port_and_stop_together(two_workers):
    process, server = two_workers
    workers = worker_pids(process.pid)
    assert len(workers) == 2
    for _ in range(100):  # until the workers listen
        try:
            status, body = server.request("GET", "/healthz")
            break
        except OSError:
            time.sleep(0.2)
    assert (status, body["data"]["database"]) == (200, "ok")
    for _ in range(20):  # either worker may take any connection
        assert server.request("GET", "/healthz")[0] == 200

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    assert all(gone(pid) for pid in workers)


def test_a_dead_worker_stops_the_others(two_workers):
    """A supervisor (systemd, a container runtime) then restarts the whole set."""
    process, _server = two_workers
    first, second = worker_pids(process.pid)
    subprocess.run(["kill", "-9", str(first)], check=True)
    assert process.wait(timeout=20) == 1
    assert gone(second)
