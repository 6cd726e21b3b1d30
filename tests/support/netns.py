"""Hosts on one machine: Linux network namespaces joined by a bridge (needs root and ``ip``).

    with Network(["svc", "a", "b", "client"]) as net:
        net.popen("a", ["python", "-m", "imserver.serve", "--host", net.address("a"), ...])
        net.cut("a")  # host a is unreachable from then on: no packet in or out

Every host is a namespace with one interface, ``eth0``, whose other end is a port of the bridge
``br0``; the bridge lives in the first host's namespace (the services' host), which carries the
bridge's own address. Everything is inside namespaces made here, whose names hold the creating
process and a random part: nothing is added to the machine's own namespace, its interfaces and
routes are never touched, and parallel or leftover runs cannot collide. ``close`` (also at exit,
and for the leftovers of runs whose process is gone) kills every process still inside these
namespaces, then deletes them; their interfaces go with them.
"""

import atexit
import contextlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from typing import Any

PREFIX = "imtest"
SUBNET = "10.77.0"  # a /24 inside the namespaces only
_NAME = re.compile(rf"^{PREFIX}(\d+)-[0-9a-f]+-\w+$")


def unavailable() -> str | None:
    """Why namespaces cannot be made here, or None when they can (checked by making one)."""
    if os.geteuid() != 0:
        return "network namespaces need root (ip netns add)"
    if shutil.which("ip") is None:
        return "the ip command (iproute2) is not installed"
    name = f"{PREFIX}{os.getpid()}-{secrets.token_hex(3)}-probe"
    made = _ip("netns", "add", name, check=False)
    if made.returncode != 0:
        return f"ip netns add failed: {made.stderr.strip()}"
    bridge = _ip("-n", name, "link", "add", "br0", "type", "bridge", check=False)
    _ip("netns", "del", name, check=False)
    if bridge.returncode != 0:
        return f"a bridge cannot be made in a namespace: {bridge.stderr.strip()}"
    return None


class Network:
    """The namespaces ``hosts`` (the first is the bridge's and gets address .1), up and joined."""

    def __init__(self, hosts: Sequence[str]) -> None:
        remove_leftovers()
        tag = f"{PREFIX}{os.getpid()}-{secrets.token_hex(3)}"
        self.namespaces = {host: f"{tag}-{host}" for host in hosts}
        self.hub = hosts[0]
        self._addresses = {host: f"{SUBNET}.{number}" for number, host in enumerate(hosts, 1)}
        self._children: list[subprocess.Popen] = []
        atexit.register(self.close)
        try:
            self._build()
        except BaseException:
            self.close()
            raise

    def _build(self) -> None:
        for namespace in self.namespaces.values():
            _ip("netns", "add", namespace)
            _ip("-n", namespace, "link", "set", "lo", "up")
        hub = self.namespaces[self.hub]
        _ip("-n", hub, "link", "add", "br0", "type", "bridge")
        _ip("-n", hub, "addr", "add", f"{self._addresses[self.hub]}/24", "dev", "br0")
        _ip("-n", hub, "link", "set", "br0", "up")
        for host, namespace in self.namespaces.items():
            if host == self.hub:
                continue
            port = self._port(host)
            _ip(
                "-n",
                hub,
                "link",
                "add",
                port,
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                namespace,
            )
            _ip("-n", hub, "link", "set", port, "master", "br0", "up")
            _ip("-n", namespace, "addr", "add", f"{self._addresses[host]}/24", "dev", "eth0")
            _ip("-n", namespace, "link", "set", "eth0", "up")

    @staticmethod
    def _port(host: str) -> str:
        return f"to-{host}"[:15]

    def address(self, host: str) -> str:
        return self._addresses[host]

    def command(self, host: str, argv: Sequence[str]) -> list[str]:
        """``argv`` run inside ``host``'s namespace."""
        return ["ip", "netns", "exec", self.namespaces[host], *argv]

    def run(self, host: str, argv: Sequence[str], **options: Any) -> subprocess.CompletedProcess:
        options.setdefault("timeout", 120)
        return subprocess.run(self.command(host, argv), check=True, **options)

    def popen(self, host: str, argv: Sequence[str], **options: Any) -> subprocess.Popen:
        child = subprocess.Popen(self.command(host, argv), **options)
        self._children.append(child)
        return child

    def cut(self, host: str) -> None:
        """Take ``host``'s bridge port down: its packets, both ways, go nowhere from now on
        (nothing is refused or reset; peers see silence, as when a host or its link dies)."""
        _ip("-n", self.namespaces[self.hub], "link", "set", self._port(host), "down")

    def close(self) -> None:
        """Kill what runs inside, delete the namespaces. Safe to call twice."""
        for child in self._children:
            with contextlib.suppress(ProcessLookupError):
                child.kill()
        for namespace in self.namespaces.values():
            _delete_namespace(namespace)
        for child in self._children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=5)
        self._children.clear()
        self.namespaces.clear()


def remove_leftovers() -> None:
    """Delete the namespaces of earlier runs whose process no longer exists."""
    listed = _ip("netns", "list", check=False).stdout.split()
    for name in listed:
        found = _NAME.match(name)
        if found and not _alive(int(found.group(1))):
            _delete_namespace(name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _delete_namespace(namespace: str) -> None:
    """SIGKILL every process in ``namespace`` (all started by the run that made it), wait
    until none is left (a namespace outlives its name while processes are inside), delete it."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = _ip("netns", "pids", namespace, check=False)
        pids = [int(pid) for pid in found.stdout.split()]
        if found.returncode != 0 or not pids:
            break
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)
    _ip("netns", "del", namespace, check=False)


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True, timeout=30)
