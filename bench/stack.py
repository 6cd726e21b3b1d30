"""The server stack of a benchmark run: a fresh database, migrations, N workers of
``imserver.serve`` with the ASGI server ``BENCH_SERVER`` (daphne, the default, or uvicorn).

PostgreSQL and Redis when ``DATABASE_URL`` / ``REDIS_URL`` are set (a fresh database named
``BENCH_DB_NAME``, default ``im_bench``, is created next to the one in ``DATABASE_URL`` and dropped
at the end); otherwise a fresh SQLite file and the in-memory channel layer (then one worker).
"""

import os
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def raise_fd_limit() -> int:
    """Raise the soft open-files limit to the hard one (children inherit it); return it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1_048_576
    if soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return soft


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _process_cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


class Stack:
    def __init__(self, *, workers: int, db_name: str = "im_bench", server: str = "") -> None:
        self.workers = workers
        self.server = server or os.environ.get("BENCH_SERVER", "daphne")
        self.port = free_port()
        self.database_url = os.environ.get("DATABASE_URL", "")
        self.redis_url = os.environ.get("REDIS_URL", "")
        self.db_name = db_name
        # One key for the servers and any helper process (scenario 6's plans) that checks their
        # tokens.
        self.secret_key = secrets.token_urlsafe(48)
        self.tmp = Path(tempfile.mkdtemp(prefix="im-bench-"))
        self.process: subprocess.Popen | None = None
        self.stderr_path = self.tmp / "server.log"
        self._stderr = None
        if not self.redis_url and workers != 1:
            self.workers = 1  # the in-memory channel layer serves one process only

    @property
    def postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def describe(self) -> dict:
        return {
            "database": "postgresql" if self.postgres else "sqlite",
            "channel_layer": "redis" if self.redis_url else "in-memory",
            "workers": self.workers,
            "server": f"{self.server} x N (imserver/serve.py, SO_REUSEPORT)",
        }

    # --- database ----------------------------------------------------------------------------
    def server_database_url(self) -> str:
        if self.postgres:
            return _with_database(self.database_url, self.db_name)
        return f"sqlite:///{self.tmp / 'bench.sqlite3'}"

    def _recreate_postgres_database(self, *, create: bool) -> None:
        import psycopg

        admin_url = _with_database(self.database_url, "postgres")
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
            if create:
                connection.execute(f'CREATE DATABASE "{self.db_name}"')

    def env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DEBUG": "0",
            "SECRET_KEY": self.secret_key,
            "IM_THROTTLE": "0",
            # Scenario 5 spreads its idle sockets over the users it has (20 each for 10,000
            # sockets and 500 users); the per-user cap stays on with IM_THROTTLE=0.
            "IM_WS_MAX_CONNECTIONS_PER_USER": "1000000",
            "LOG_LEVEL": "WARNING",
            "DATABASE_URL": self.server_database_url(),
            "IM_MEDIA_ROOT": str(self.tmp / "media"),
            "PYTHONUNBUFFERED": "1",
        }
        # The production setup the benchmark measures (README "Benchmark"): persistent
        # database connections, one per sync lane.
        env.setdefault("DB_CONN_MAX_AGE", "600")
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
            env.setdefault("IM_CACHE_PREFIX", f"imbench{os.getpid()}")
        return env

    def start(self, timeout: float = 60) -> "Stack":
        if self.postgres:
            self._recreate_postgres_database(create=True)
        env = self.env()
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=300,
        )
        self._stderr = open(self.stderr_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "imserver.serve",
                "--workers",
                str(self.workers),
                "--port",
                str(self.port),
                "--server",
                self.server,
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited:\n{self.stderr_path.read_text()[-4000:]}")
            if len(self.worker_pids()) == self.workers:
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                        pass
                    time.sleep(1.0)  # every worker listens
                    return self
                except OSError:
                    pass
            time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"server did not listen on {self.port} within {timeout}s")

    def worker_pids(self) -> list[int]:
        if self.process is None:
            return []
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []

    def rss_bytes(self) -> int:
        total = 0
        for pid in self.worker_pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            except OSError:
                continue
        return total

    def cpu_seconds(self) -> float:
        """User + system CPU of the workers so far."""
        return sum(_process_cpu_seconds(pid) for pid in self.worker_pids())

    def cpu_by_component(self) -> dict[str, float]:
        """CPU seconds so far of the workers, PostgreSQL's and Redis's processes on this machine."""
        services = {"postgres": 0.0, "redis": 0.0}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                name = (entry / "comm").read_text().strip()
            except OSError:
                continue
            if name.startswith("postgres"):
                services["postgres"] += _process_cpu_seconds(int(entry.name))
            elif name.startswith("redis-server"):
                services["redis"] += _process_cpu_seconds(int(entry.name))
        return {
            "server": self.cpu_seconds(),
            **services,
            "load_generator": _process_cpu_seconds(os.getpid()),
        }

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        kept = os.environ.get("BENCH_SERVER_LOG")
        if kept and self.stderr_path.exists():
            shutil.copyfile(self.stderr_path, kept)
        if self.postgres:
            try:
                self._recreate_postgres_database(create=False)
            except Exception as exc:
                print(f"could not drop database {self.db_name}: {exc}", file=sys.stderr)
        shutil.rmtree(self.tmp, ignore_errors=True)
