"""The two WebSocket limits that only the server's protocol layer can hold, installed on
daphne's protocol (Autobahn on Twisted):

- A client frame or message over ``IM_WS_MAX_FRAME_BYTES`` closes the socket with 1009 (CONTRACT
  7). Autobahn refuses 1009 as a close code from the application (only 1000 and 3000-4999), so
  the application cannot send it; Autobahn's own payload limits can, and they also stop reading
  an oversized message before it is buffered whole. Daphne sets them for every connection from
  its command line (1 MiB by default); here each connection takes ours when it opens, and fails
  with a close frame carrying the code instead of a dropped connection.
- A client that reads slower than its pushes arrive (or not at all) makes Twisted buffer
  everything written to it. Once more than ``IM_WS_MAX_BUFFERED_BYTES`` wait unsent, the socket
  is closed with 4009: Autobahn sends the close frame (behind what is buffered) and drops the
  connection when no answer comes within its close handshake timeout, so one stuck client can
  hold at most that much of the server's memory.
- A client that sends faster than its frames are handled: daphne puts every frame it reads into
  the application's queue, which has no bound. Once ``IM_WS_FRAMES_AHEAD`` frames wait there,
  reading from the connection pauses (TCP then holds the client back), and resumes once the
  application has taken half of them. What one read had already brought in is still queued,
  so at most that many frames and one read's worth of bytes wait.
"""

import logging
from typing import Any

from django.conf import settings

from imserver.overrides.gate import Calls, Override

logger = logging.getLogger("imserver.overrides")

CLOSE_SLOW_CONSUMER = 4009

_ON_CONNECT_CALLS = Calls()
_HANDLE_REPLY_CALLS = Calls()
_ON_MESSAGE_CALLS = Calls()

# How often a connection whose reading is paused looks whether its frames were taken.
RESUME_CHECK_S = 0.005


def unsent_bytes(transport: Any) -> int:
    """What a Twisted TCP transport holds that the kernel has not taken yet."""
    buffered = len(getattr(transport, "dataBuffer", b"")) - getattr(transport, "offset", 0)
    return buffered + getattr(transport, "_tempDataLen", 0)


def _patch() -> None:
    from daphne.ws_protocol import WebSocketProtocol

    max_frame_bytes = settings.IM_WS_MAX_FRAME_BYTES
    max_buffered_bytes = settings.IM_WS_MAX_BUFFERED_BYTES
    original_on_connect = WebSocketProtocol.onConnect
    original_handle_reply = WebSocketProtocol.handle_reply
    original_on_message = WebSocketProtocol.onMessage
    frames_ahead = settings.IM_WS_FRAMES_AHEAD

    def on_connect(self: Any, request: Any) -> Any:
        _ON_CONNECT_CALLS.count += 1
        # Read by Autobahn for every incoming frame from here on; the handshake comes first.
        self.maxFramePayloadSize = max_frame_bytes
        self.maxMessagePayloadSize = max_frame_bytes
        # Fail a connection with a close frame that carries the code (1009, or 1002/1007 for
        # protocol errors) rather than by dropping the TCP connection (Autobahn's default).
        self.failByDrop = False
        return original_on_connect(self, request)

    def handle_reply(self: Any, message: dict[str, Any]) -> None:
        _HANDLE_REPLY_CALLS.count += 1
        if message.get("type") == "websocket.send" and self.state in (
            self.STATE_CLOSING,
            self.STATE_CLOSED,
        ):
            return  # closing (a 4009 or the client's close): a push on its way reaches no one
        original_handle_reply(self, message)
        if self.state == self.STATE_OPEN:
            unsent = unsent_bytes(self.transport)
            if unsent > max_buffered_bytes:
                logger.info(
                    "socket closed as a slow consumer: %d bytes unsent (IM_WS_MAX_BUFFERED_BYTES)",
                    unsent,
                )
                self.sendClose(code=CLOSE_SLOW_CONSUMER, reason="slow consumer")

    def on_message(self: Any, payload: bytes, is_binary: bool) -> None:
        _ON_MESSAGE_CALLS.count += 1
        original_on_message(self, payload, is_binary)
        queue = getattr(self, "application_queue", None)
        if queue is None or self.transport is None or getattr(self, "im_reading_paused", False):
            return
        if queue.qsize() >= frames_ahead:
            self.im_reading_paused = True
            self.transport.pauseProducing()
            _resume_when_taken(self, queue, frames_ahead // 2)

    WebSocketProtocol.onConnect = on_connect
    WebSocketProtocol.handle_reply = handle_reply
    WebSocketProtocol.onMessage = on_message


def _resume_when_taken(protocol: Any, queue: Any, low: int) -> None:
    """Read again once no more than ``low`` frames wait; look again later until then."""
    from twisted.internet import reactor

    if protocol.state == protocol.STATE_CLOSED or protocol.transport is None:
        return
    if queue.qsize() <= low:
        protocol.im_reading_paused = False
        protocol.transport.resumeProducing()
        return
    # Twisted declares its interfaces' methods without ``self``, which mypy counts as an argument.
    reactor.callLater(RESUME_CHECK_S, _resume_when_taken, protocol, queue, low)  # type: ignore[arg-type]


OVERRIDE = Override(
    "daphne_limits",
    servers=("daphne",),
    written_for={"daphne": "4.2.3", "autobahn": "26.10.2", "twisted": "26.10.0"},
    needs=(
        "daphne.ws_protocol:WebSocketProtocol.onConnect",
        "daphne.ws_protocol:WebSocketProtocol.handle_reply",
        "daphne.ws_protocol:WebSocketProtocol.onMessage",
        "twisted.internet.abstract:FileDescriptor.pauseProducing",
        "twisted.internet.abstract:FileDescriptor.resumeProducing",
        "daphne.ws_protocol:WebSocketProtocol.sendClose",
        "daphne.ws_protocol:WebSocketProtocol.STATE_CLOSING",
        "daphne.ws_protocol:WebSocketProtocol.STATE_CLOSED",
        "twisted.internet.tcp:Connection.dataBuffer",
        "twisted.internet.tcp:Connection.offset",
    ),
    patch=_patch,
    hooks={
        "WebSocketProtocol.onConnect": _ON_CONNECT_CALLS,
        "WebSocketProtocol.handle_reply": _HANDLE_REPLY_CALLS,
        "WebSocketProtocol.onMessage": _ON_MESSAGE_CALLS,
    },
)
