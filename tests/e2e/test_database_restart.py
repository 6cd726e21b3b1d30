"""PostgreSQL restarted under a running server: quick enveloped errors, then recovery by itself.

The test runs its own PostgreSQL cluster (initdb on a free port) so that stopping it disturbs
nothing else.
"""

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.support.server import ServerProcess, free_port

pytestmark = pytest.mark.requires_postgres


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        pytest.fail(f"PostgreSQL server binaries ({name}) are not installed")
    return found[-1]


class PrivateCluster:
    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.data = root / "pgdata"
        self.log = root / "pg.log"
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
        self._as_postgres(
            [_pg_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync"]
        )

    def _as_postgres(self, command: list[str]) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(prefix + command, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self._as_postgres(
            [
                _pg_bin("pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-w",
                "-o",
                f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1",
                "start",
            ]
        )

    def stop(self) -> None:
        self._as_postgres([_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"


@pytest.fixture
def cluster():
    # Not under pytest's tmp_path: its parents are private to root, and postgres must get in.
    root = Path(tempfile.mkdtemp(prefix="im-pg-"))
    try:
        pg = PrivateCluster(root)
        pg.start()
        yield pg
        with contextlib.suppress(subprocess.CalledProcessError):
            pg.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_requests_fail_fast_during_an_outage_and_recover_afterwards(cluster):
    server = ServerProcess(
        {"DATABASE_URL": cluster.url, "DB_CONNECT_TIMEOUT_S": "2", "IM_THROTTLE": "0"}
    )
    server.migrate()
    server.start()
    try:
        body = {"username": "alice", "password": "secret123", "email": "alice@e.com"}
        assert server.request("POST", "/register", body)[0] == 200
        _status, login = server.request("POST", "/login", body)
        token = login["data"]["access_token"]
        assert server.request("GET", "/user/profile", token=token)[0] == 200

        cluster.stop()
        for path in ("/user/profile", "/friend/list", "/chat/conversation/list"):
            started = time.monotonic()
            status, response = server.request("GET", path, token=token)
            assert time.monotonic() - started < 5
            assert (status, response["code"]) == (503, 50001), response
            assert "Traceback" not in response["message"]

        cluster.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            status, response = server.request("GET", "/user/profile", token=token)
            if status == 200:
                break
            time.sleep(0.2)
        assert (status, response["data"]["username"]) == (200, "alice")
        status, response = server.request("POST", "/login", body)
        assert (status, response["code"]) == (200, 20000)
    finally:
        server.stop()
