"""Sends on uvicorn's WebSocket connections never wait for the client, and a client that reads
too slowly is closed with 4009 (the ``websockets-sansio`` protocol that
``python -m imserver.serve --server uvicorn`` runs):

- Stock ``WebSocketsSansIOProtocol.send`` waits, before every message, until the transport's
  write buffer is under its low-water mark. A client that stops reading then blocks its
  consumer, which handles nothing else (not its idle and token rules), while its pushes pile up
  in the channel layer until the layer drops them unseen. Here a ``websocket.send`` on an open
  connection is framed and written at once (the transport sends what the socket takes and
  buffers the rest), as daphne does. Once more than ``IM_WS_MAX_BUFFERED_BYTES`` wait unsent in
  the transport, the socket is closed with 4009: the close frame goes behind what is buffered
  and the application gets its ``websocket.disconnect`` (4009) at once.
- A close, the application's (4001, 4008 ...) or this 4009, does not wait for the buffer
  either; a client that has not answered it within the protocol's close timeout is cut off
  (``abort``). Stock closes the transport gracefully then, which for a client that reads nothing
  waits as long as the kernel keeps the connection. So one stuck client holds at most about
  ``IM_WS_MAX_BUFFERED_BYTES`` of the server's memory, for at most the close timeout.
- A send after the close, or after the client left, reaches no one and is dropped, as under
  daphne (stock raises ``ClientDisconnected`` into the consumer).

Everything else (the handshake, a refusal before it, an HTTP response instead of it) goes
through the stock method; once the handshake's response is sent, the connection lets go of the
handshake's request and response, which an idle socket would otherwise hold for its whole life.
"""

import logging
from typing import Any

from django.conf import settings

from imserver.overrides.gate import Calls, Override

logger = logging.getLogger("imserver.overrides")

CLOSE_SLOW_CONSUMER = 4009

_SEND_CALLS = Calls()


def _close(protocol: Any, code: int, reason: str) -> None:
    """Queue the close frame behind what is buffered; cut the connection off when the client
    has not answered it within the close timeout."""
    if protocol.transport.is_closing():
        return
    protocol.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
    protocol.conn.send_close(code, reason)
    protocol.transport.write(b"".join(protocol.conn.data_to_send()))
    protocol.close_sent = True
    if protocol.read_paused:  # the client's close answer must be read
        protocol.read_paused = False
        protocol.transport.resume_reading()
    protocol.close_timer = protocol.loop.call_later(
        protocol.close_timeout, protocol.transport.abort
    )


def _patch() -> None:
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
    from websockets.exceptions import InvalidState

    max_buffered_bytes = settings.IM_WS_MAX_BUFFERED_BYTES
    original_send = WebSocketsSansIOProtocol.send

    async def send(self: Any, message: Any) -> None:
        _SEND_CALLS.count += 1
        kind = message["type"]
        if (
            kind not in ("websocket.send", "websocket.close")
            or not self.handshake_complete
            or self.initial_response is not None
        ):
            await original_send(self, message)
            if self.handshake_complete:
                # The handshake's request and response (headers and all), which stock keeps
                # for the connection's life, are not read again once the response is sent.
                self.request = self.response = None
            return
        if self.close_sent or self.disconnected or self.transport.is_closing():
            return  # closing or gone: reaches no one
        if kind == "websocket.close":
            _close(self, message.get("code", 1000), message.get("reason") or "")
            return
        data = message.get("bytes")
        try:
            if data is not None:
                self.conn.send_binary(data)
            else:
                self.conn.send_text(message.get("text", "").encode())
        except InvalidState:
            return  # the client's close arrived: its disconnect is queued already
        self.transport.write(b"".join(self.conn.data_to_send()))
        unsent = self.transport.get_write_buffer_size()
        if unsent > max_buffered_bytes:
            logger.info(
                "socket closed as a slow consumer: %d bytes unsent (IM_WS_MAX_BUFFERED_BYTES)",
                unsent,
            )
            _close(self, CLOSE_SLOW_CONSUMER, "slow consumer")

    WebSocketsSansIOProtocol.send = send  # type: ignore[method-assign]


OVERRIDE = Override(
    "uvicorn_websocket",
    servers=("uvicorn",),
    written_for={"uvicorn": "0.55.0", "websockets": "17.4"},
    needs=(
        "uvicorn.protocols.websockets.websockets_sansio_impl:WebSocketsSansIOProtocol.send",
        "websockets.server:ServerProtocol.send_text",
        "websockets.server:ServerProtocol.send_binary",
        "websockets.server:ServerProtocol.send_close",
        "websockets.server:ServerProtocol.data_to_send",
        "websockets.exceptions:InvalidState",
    ),
    patch=_patch,
    hooks={"WebSocketsSansIOProtocol.send": _SEND_CALLS},
)
