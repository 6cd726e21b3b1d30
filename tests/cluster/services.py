"""A private PostgreSQL cluster and redis-server on one host of a ``Network``, listening on that
host's address, so the other hosts reach them over the bridge and nothing depends on the
machine's own services."""

import contextlib
import glob
import shutil
import subprocess
from pathlib import Path

from tests.support.netns import Network

POSTGRES_PORT = 5432
REDIS_PORT = 6379


def postgres_binary(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else None


def missing_services() -> str | None:
    """What is not installed, or None."""
    if postgres_binary("initdb") is None:
        return "PostgreSQL server binaries (initdb) are not installed"
    if shutil.which("redis-server") is None:
        return "redis-server is not installed"
    return None


class Postgres:
    """initdb in ``folder`` (owned by postgres: the server refuses to run as root)."""

    def __init__(self, net: Network, host: str, folder: Path) -> None:
        self.net, self.host = net, host
        self.data = folder / "pgdata"
        folder.mkdir()
        folder.parent.chmod(0o711)  # postgres may pass through the test's folder
        shutil.chown(folder, "postgres")
        self._as_postgres(
            ["initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync"]
        )
        with open(self.data / "pg_hba.conf", "a") as rules:  # the other hosts, on the bridge
            rules.write(f"host all all {net.address(host)}/24 trust\n")

    def _as_postgres(self, command: list[str]) -> None:
        binary = postgres_binary(command[0]) or command[0]
        self.net.run(
            self.host,
            ["runuser", "-u", "postgres", "--", binary, *command[1:]],
            capture_output=True,
        )

    def start(self) -> None:
        options = (
            f"-p {POSTGRES_PORT} -k {self.data} -c listen_addresses={self.net.address(self.host)}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._as_postgres(
            ["pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-o", options, "start"]
        )

    @property
    def log(self) -> Path:
        return self.data.parent / "postgres.log"

    def sessions_ended_idle_in_transaction(self) -> int:
        """Sessions PostgreSQL ended for idling in a transaction (a lost host's)."""
        return self.log.read_text(errors="replace").count("idle-in-transaction timeout")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._as_postgres(["pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop"])

    @property
    def url(self) -> str:
        return f"postgres://postgres@{self.net.address(self.host)}:{POSTGRES_PORT}/postgres"


def start_redis(net: Network, host: str, folder: Path) -> str:
    """A redis-server that keeps nothing on disk; stopped with the namespace."""
    address = net.address(host)
    net.popen(
        host,
        [
            shutil.which("redis-server") or "redis-server",
            "--bind",
            address,
            "--port",
            str(REDIS_PORT),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
            "--protected-mode",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    net.run(host, ["sh", "-c", _wait_for_redis(address)], capture_output=True, timeout=15)
    return f"redis://{address}:{REDIS_PORT}/0"


def _wait_for_redis(address: str) -> str:
    return (
        f"for _ in $(seq 100); do redis-cli -h {address} -p {REDIS_PORT} ping 2>/dev/null"
        " | grep -q PONG && exit 0; sleep 0.1; done; exit 1"
    )
