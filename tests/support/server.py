"""Start the real server as a separate process on a free loopback port, through the server entry
point (``python -m imserver.serve``: the server overrides installed, the ASGI server in-process).

``IM_TEST_SERVER`` picks the ASGI server every real server of the tests runs: ``daphne`` (the
default) or ``uvicorn``; :data:`SERVE_ARGS` says it to ``imserver.serve``.
"""

import atexit
import functools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from imserver.serve import APPLICATION, SERVERS, listening_socket

ROOT = Path(__file__).resolve().parents[2]
BACKLOG = 4096

TEST_SERVER = os.environ.get("IM_TEST_SERVER", "daphne")
if TEST_SERVER not in SERVERS:
    raise RuntimeError(f"IM_TEST_SERVER={TEST_SERVER!r}: one of {', '.join(SERVERS)}")
SERVE_ARGS = ["--server", TEST_SERVER]


def supervisor_command(port: int, workers: int = 2) -> list[str]:
    """``python -m imserver.serve`` with ``workers`` workers on ``127.0.0.1:port`` (its default
    host), on the server under test: the supervisor and its workers, as make run starts them."""
    return [
        sys.executable,
        "-m",
        "imserver.serve",
        "--workers",
        str(workers),
        "--port",
        str(port),
        *SERVE_ARGS,
    ]


# For what only daphne does (its overrides, its stock behaviour, its log lines).
daphne_only = pytest.mark.skipif(
    TEST_SERVER != "daphne", reason=f"daphne's own behaviour (IM_TEST_SERVER={TEST_SERVER})"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )


@functools.cache
def _migrated_sqlite_template() -> Path:
    """A SQLite database with every migration applied, made on first use (about 5 s)."""
    folder = Path(tempfile.mkdtemp(prefix="im-sqlite-template-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    template = folder / "template.sqlite3"
    run_migrate({**os.environ, "DEBUG": "1", "DATABASE_URL": f"sqlite:///{template}"})
    return template


def sqlite_server(tmp_path: Path, **env: str) -> "ServerProcess":
    """A server (not started yet) on a migrated SQLite file and a media folder in ``tmp_path``,
    without rate limits."""
    server = ServerProcess(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'server.sqlite3'}",
            "IM_MEDIA_ROOT": str(tmp_path / "media"),
            "IM_THROTTLE": "0",
            **env,
        }
    )
    server.migrate()
    return server


def sqlite_copy_of_migrated_template(path: Path) -> None:
    shutil.copyfile(_migrated_sqlite_template(), path)


class ServerProcess:
    """A server worker with its own environment; ``env`` overrides (e.g. REDIS_URL)."""

    def __init__(self, env: dict[str, str], *, port: int | None = None) -> None:
        self.port = port or free_port()
        self.env = {**os.environ, "DEBUG": "1", **env}
        self.process: subprocess.Popen | None = None
        # The server's stderr (its log), appended to; read back through its name.
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115  (lives as long as the server)
            mode="ab", prefix="im-server-", suffix=".log"
        )

    def output(self) -> str:
        """What the server has logged so far."""
        with open(self.log.name, "rb") as log:
            return log.read().decode(errors="replace")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def migrate(self) -> None:
        """Create the schema. A SQLite file is a copy of one migrated once per test session."""
        url = self.env.get("DATABASE_URL", "")
        if url.startswith("sqlite:///"):
            sqlite_copy_of_migrated_template(Path(url.removeprefix("sqlite:///")))
            return
        run_migrate(self.env)

    def seed_demo(self) -> None:
        """``manage.py seed_demo`` on the server's database (users with password demo1234)."""
        subprocess.run(
            [sys.executable, "manage.py", "seed_demo"],
            cwd=ROOT,
            env=self.env,
            check=True,
            timeout=120,
            capture_output=True,
        )

    def start(
        self,
        *,
        timeout: float = 30,
        stock: bool = False,
        server: str = TEST_SERVER,
        server_args: tuple[str, ...] = (),
    ) -> "ServerProcess":
        """One worker of the server entry point (``python -m imserver.serve --fd``) on a
        listening socket made here, so ``process`` is the process that serves; ``server`` and
        ``server_args`` (what goes after ``--``) as ``imserver.serve`` takes them. ``stock``:
        ``daphne imserver.asgi:application`` run directly instead (no server overrides, no
        process tuning)."""
        listener = None
        if stock:
            entry = ["daphne", "-b", "127.0.0.1", "-p", str(self.port), APPLICATION]
        else:
            listener = listening_socket("127.0.0.1", self.port, BACKLOG, shared=False)
            entry = ["imserver.serve", "--fd", str(listener.fileno()), "--server", server]
            if server_args:
                entry += ["--", *server_args]
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", *entry],
                cwd=ROOT,
                env=self.env,
                stdout=subprocess.DEVNULL,
                # A file, not a pipe: nobody reads a pipe while the test runs, and a full one
                # (64 KiB of access log) would block the server mid-request.
                stderr=self.log,
                pass_fds=(listener.fileno(),) if listener else (),
            )
        finally:
            if listener is not None:
                listener.close()  # the server holds its copy
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.output()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"server did not listen on {self.port} within {timeout}s")

    def kill(self) -> None:
        """SIGKILL: the process dies mid-flight, as in a crash."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def request(
        self, method: str, path: str, body: dict | None = None, token: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())
