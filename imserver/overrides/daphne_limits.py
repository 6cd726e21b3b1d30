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
"""

import logging
from typing import Any

from django.conf import settings

from imserver.overrides.gate import Calls, Override

logger = logging.getLogger("imserver.overrides")

CLOSE_SLOW_CONSUMER = 4009

_ON_CONNECT_CALLS = Calls()
_HANDLE_REPLY_CALLS = Calls()


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

    WebSocketProtocol.onConnect = on_connect
    WebSocketProtocol.handle_reply = handle_reply


OVERRIDE = Override(
    "daphne_limits",
    servers=("daphne",),
    written_for={"daphne": "4.2.3", "autobahn": "26.10.2", "twisted": "26.10.0"},
    needs=(
        "daphne.ws_protocol:WebSocketProtocol.onConnect",
        "daphne.ws_protocol:WebSocketProtocol.handle_reply",
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
    },
)
