"""A text pushed to many sockets is framed once, not once per socket.

A group message goes to every member's sockets as the same frame text (``realtime.fanout``).
Daphne hands each ``websocket.send`` to Autobahn, which encodes the text, checks its options,
counts statistics and builds the frame, again for every socket. Here daphne's ``serverSend``
keeps the frame of the last text it sent (the same ``str`` object, so the check is one identity
comparison) and writes those bytes to each socket.

An unmasked, unfragmented, uncompressed text frame is the same bytes on every connection, so
the shortcut is only taken for such a connection in its plain open state (no compression
negotiated, no fragmentation, no masking, nothing queued by Autobahn); everything else goes
through Autobahn as before. The connection's message size limit is the limit of what the client
may send (``imserver.overrides.daphne_limits``), so it is not applied to what is sent here.
Autobahn's traffic counters, which nothing here reads, do not count these frames.
"""

from typing import Any

from imserver.overrides.gate import Calls, Override

_SERVER_SEND_CALLS = Calls()

# The last text and its frame, replaced as one tuple: a reader never pairs a text with the
# frame of another.
_last: tuple[str | None, bytes] = (None, b"")


def text_frame(text: str) -> bytes:
    """RFC 6455 section 5.2: a final, unmasked text frame of ``text``."""
    payload = text.encode("utf-8")
    length = len(payload)
    if length <= 125:
        header = bytes((0x81, length))
    elif length <= 0xFFFF:
        header = bytes((0x81, 126)) + length.to_bytes(2, "big")
    else:
        header = bytes((0x81, 127)) + length.to_bytes(8, "big")
    return header + payload


def _frame_of(text: str) -> bytes:
    global _last
    last_text, frame = _last
    if text is not last_text:
        frame = text_frame(text)
        _last = (text, frame)
    return frame


def _plain_open(protocol: Any) -> bool:
    """Open, and writing this frame as it is is what Autobahn would do."""
    return (
        protocol.state == protocol.STATE_OPEN
        and protocol._perMessageCompress is None
        and protocol.send_state == protocol.SEND_STATE_GROUND
        and not protocol.send_queue
        and not protocol.maskServerFrames
        and not protocol.autoFragmentSize
        and not protocol.trackedTimings
    )


def _server_send(self: Any, content: Any, binary: bool = False) -> None:
    _SERVER_SEND_CALLS.count += 1
    if not binary and isinstance(content, str):
        frame = _frame_of(content)
        if _plain_open(self):
            self.transport.write(frame)
            return
    _original_server_send(self, content, binary)


_original_server_send: Any = None


def _patch() -> None:
    global _original_server_send
    from daphne.ws_protocol import WebSocketProtocol

    _original_server_send = WebSocketProtocol.serverSend
    WebSocketProtocol.serverSend = _server_send


OVERRIDE = Override(
    "prepared_frames",
    servers=("daphne",),
    written_for={"daphne": "4.2.3", "autobahn": "26.10.2"},
    needs=(
        "daphne.ws_protocol:WebSocketProtocol.serverSend",
        *(
            f"autobahn.websocket.protocol:WebSocketProtocol.{name}"
            for name in ("STATE_OPEN", "SEND_STATE_GROUND")
        ),
    ),
    patch=_patch,
    hooks={"WebSocketProtocol.serverSend": _SERVER_SEND_CALLS},
)
