"""Twisted's TCP connections send what they are given at once when nothing is waiting to go.

Twisted buffers every ``write()`` and registers the socket for writing; the bytes leave on the
next reactor turn, after which the socket is unregistered again. On the asyncio reactor that
daphne runs, that is two ``epoll_ctl`` calls and a reactor callback around every ``send()``, for
every WebSocket frame and HTTP response. asyncio's own transports try the socket first and
buffer only what it does not take; with this, daphne's connections do the same. Whatever the
socket does not take, and every write while earlier bytes still wait, goes through Twisted's
buffer as before, so the order of bytes and back-pressure (producers) are unchanged; errors are
left for that path to report.
"""

from typing import Any

from imserver.overrides.gate import Calls, Override

_WRITE_CALLS = Calls()


def _write(self: Any, data: bytes) -> None:
    _WRITE_CALLS.count += 1
    if (
        data
        and not self.TLS  # startTLS: bytes go through the TLS layer first
        and not self._tempDataLen
        and self.offset == len(self.dataBuffer)
        and self.connected
        and not self.disconnecting
        and not self._writeDisconnected
        and isinstance(data, bytes)
    ):
        sent = self.writeSomeData(data)
        if isinstance(sent, int) and sent > 0:
            if sent == len(data):
                return
            data = data[sent:]
    _buffered_write(self, data)


_buffered_write: Any = None


def _patch() -> None:
    global _buffered_write
    from twisted.internet import tcp

    _buffered_write = tcp.Connection.write
    # The patch itself: mypy refuses any assignment to a method.
    tcp.Connection.write = _write  # type: ignore[method-assign]


OVERRIDE = Override(
    "write_through",
    servers=("daphne",),
    written_for={"twisted": "26.10.0"},
    needs=tuple(
        f"twisted.internet.tcp:Connection.{name}"
        for name in ("write", "writeSomeData", "TLS", "offset", "dataBuffer", "_writeDisconnected")
    ),
    patch=_patch,
    hooks={"Connection.write": _WRITE_CALLS},
)
