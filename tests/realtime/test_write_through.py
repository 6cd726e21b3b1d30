"""Twisted TCP connections send at once when nothing is buffered, and buffer the rest in order
(imserver/overrides/write_through.py). A real socket pair and a connection class that uses the
override's write (nothing is installed in this process); the reactor only records what the
connection asks of it. (The 200 MiB download of tests/files/test_memory.py runs the same code in
a real server, with back-pressure; tests/e2e/test_overrides.py checks Twisted calls it there.)"""

import socket

import pytest
from twisted.internet import tcp

from imserver.overrides import write_through


class RecordingReactor:
    """What a connection asks of its reactor: to be told when its socket is writable (to start
    and stop watching it)."""

    def __init__(self) -> None:
        self.writers: list[object] = []
        self.calls: list[str] = []

    def addWriter(self, writer: object) -> None:
        if writer in self.writers:  # as Twisted's reactors: registering twice is once
            return
        self.calls.append("addWriter")
        self.writers.append(writer)

    def removeWriter(self, writer: object) -> None:
        self.calls.append("removeWriter")
        self.writers.remove(writer)


class WriteThroughConnection(tcp.Connection):
    write = write_through._write


@pytest.fixture
def connection(monkeypatch):
    monkeypatch.setattr(write_through, "_buffered_write", tcp.Connection.write)
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    reactor = RecordingReactor()
    conn = WriteThroughConnection(ours, None, reactor)
    conn.connected = True
    yield conn, theirs, reactor
    ours.close()
    theirs.close()


def _read(sock: socket.socket, count: int) -> bytes:
    data = b""
    sock.settimeout(5)
    while len(data) < count:
        data += sock.recv(count - len(data))
    return data


def test_a_write_with_nothing_buffered_is_sent_without_the_reactor(connection):
    conn, theirs, reactor = connection
    conn.write(b"frame one")
    conn.write(b"frame two")
    assert _read(theirs, 18) == b"frame oneframe two"
    assert reactor.calls == []


def test_what_the_socket_does_not_take_is_buffered_and_sent_in_order(connection):
    conn, theirs, reactor = connection
    big = bytes(range(256)) * 4096  # 1 MiB: more than the socket takes at once
    conn.write(big)
    conn.write(b"after")  # earlier bytes wait: this one goes behind them
    assert reactor.calls == ["addWriter"]
    received = b""
    while reactor.writers:
        received += theirs.recv(1 << 20)
        conn.doWrite()  # what the reactor does when the socket is writable
    received += _read(theirs, len(big) + 5 - len(received))
    assert received == big + b"after"
    assert reactor.calls == ["addWriter", "removeWriter"]
    conn.write(b"then direct again")
    assert _read(theirs, 17) == b"then direct again"
    assert reactor.calls == ["addWriter", "removeWriter"]
