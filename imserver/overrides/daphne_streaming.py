"""Keep large request bodies out of memory under daphne (django/daphne#483).

Measured with daphne 4.2.3 and Twisted 26.10 (see docs/files.md): a 200 MiB multipart upload took
the server process several hundred MiB, for two reasons outside our code:

1. Twisted's ``Request.requestReceived`` reads a whole ``multipart/form-data`` POST body into
   memory to fill ``request.args``, which daphne never uses. Turned off per request through
   Twisted's own ``_parsePOSTFormSubmission`` switch.
2. Daphne's ``WebRequest.process`` copies the whole body (spooled to a temporary file by Twisted
   from 100 kB on) into the application's unbounded input queue, 8 KiB per message, before the
   application runs. Here the queue handed to the application reads those messages lazily from
   the spooled file instead, as the application asks for them.

Django's ASGI handler then spools the body to disk beyond FILE_UPLOAD_MAX_MEMORY_SIZE, and the
upload handler streams the file part to disk, so an upload costs a bounded amount of memory.

3. Responses: daphne writes every ``http.response.body`` message to the socket and returns at
   once, so a streamed download is buffered in memory as fast as storage can be read, however
   slowly the client reads. A Twisted push producer registered on the request now makes the
   application's ``send`` wait while the socket's buffer is full (real back-pressure).
``IM_DAPHNE_STREAMING_BODY=0`` leaves daphne untouched by 1-3.

4. Request body limits (``install_body_limit``, always installed: overrides/http_handler.py):
   Twisted reads a whole body (a temporary file from 100 kB on) before daphne or Django see the
   request. Here a ``Content-Length`` over the endpoint's limit
   (imserver/api/request_limits.py) is answered with the 413 envelope as soon as the headers
   are in, and a body without one once its bytes go over; nothing of it is stored, the
   application never runs, and the connection closes after the answer.
"""

import asyncio
import io
import logging
import os
from functools import partial
from typing import IO, Any

from twisted.internet.interfaces import IPushProducer
from zope.interface import implementer

logger = logging.getLogger(__name__)

# Bodies Twisted keeps in memory (under 100 kB) stay on daphne's own path.
LAZY_BODY_MIN_BYTES = 100_000
BODY_CHUNK_BYTES = 64 * 1024


class LazyBodyQueue(asyncio.Queue):
    """An application input queue that serves ``http.request`` messages from a spooled file."""

    def __init__(self, body: IO[bytes]) -> None:
        super().__init__()
        body.seek(0, os.SEEK_END)
        self._size = body.tell()
        body.seek(0)
        self._body: IO[bytes] | None = body
        self._dropped_daphne_body = False

    def put_nowait(self, item: Any) -> None:
        # Daphne still "sends" the (now empty) body it was left with: drop that one message.
        if not self._dropped_daphne_body and item.get("type") == "http.request":
            self._dropped_daphne_body = True
            return
        super().put_nowait(item)

    async def get(self) -> Any:
        body = self._body
        if body is None:
            return await super().get()
        chunk = body.read(BODY_CHUNK_BYTES)
        more_body = body.tell() < self._size
        if not more_body:
            body.close()
            self._body = None
        return {"type": "http.request", "body": chunk, "more_body": more_body}


def _spooled_body(protocol: Any, scope: dict) -> IO[bytes] | None:
    """The on-disk body of a large HTTP request, or None to leave the request to daphne."""
    from daphne.http_protocol import WebRequest

    content = getattr(protocol, "content", None)
    if not isinstance(protocol, WebRequest) or scope.get("type") != "http":
        return None
    if content is None or isinstance(content, io.BytesIO):
        return None
    try:
        size = os.fstat(content.fileno()).st_size
    except (OSError, ValueError, io.UnsupportedOperation):
        return None
    return content if size >= LAZY_BODY_MIN_BYTES else None


def _create_application(self: Any, protocol: Any, scope: dict) -> Any:
    """daphne.server.Server.create_application, with a lazy queue for spooled HTTP bodies."""
    body = _spooled_body(protocol, scope)
    if body is None:
        return _original_create_application(self, protocol, scope)
    assert "application_instance" not in self.connections[protocol]
    input_queue = LazyBodyQueue(body)
    protocol.content = io.BytesIO()  # what daphne's own copy loop reads now: nothing
    scope.setdefault("asgi", {"version": "3.0"})
    application_instance = self.application(
        scope=scope,
        receive=input_queue.get,
        send=partial(self.handle_reply, protocol),
    )
    if protocol not in self.connections:
        return None
    self.connections[protocol]["application_instance"] = asyncio.ensure_future(
        application_instance,
        loop=asyncio.get_event_loop(),
    )
    return input_queue


@implementer(IPushProducer)
class _SendGate:
    """Open while the client keeps up; Twisted pauses it when the socket's buffer is full."""

    def __init__(self) -> None:
        self._open = asyncio.Event()
        self._open.set()

    def pauseProducing(self) -> None:
        self._open.clear()

    def resumeProducing(self) -> None:
        self._open.set()

    def stopProducing(self) -> None:  # the connection is going away: never block the app
        self._open.set()

    async def wait(self) -> None:
        await self._open.wait()


async def _handle_reply(self: Any, protocol: Any, message: dict) -> None:
    """daphne.server.Server.handle_reply, waiting while a streamed body's client lags behind."""
    if message.get("type") != "http.response.body":  # every WebSocket frame: straight through
        await _original_handle_reply(self, protocol, message)
        return
    from daphne.http_protocol import WebRequest

    is_body = isinstance(protocol, WebRequest)
    more_body = bool(message.get("more_body", False))
    if is_body and not more_body:
        gate = protocol.__dict__.pop("_im_send_gate", None)
        if gate is not None and protocol.producer is gate:
            protocol.unregisterProducer()
    await _original_handle_reply(self, protocol, message)
    if not (is_body and more_body) or protocol.finished or protocol.channel is None:
        return
    gate = protocol.__dict__.get("_im_send_gate")
    if gate is None:
        if protocol.producer is not None:
            return
        gate = protocol._im_send_gate = _SendGate()
        protocol.registerProducer(gate, True)
    await gate.wait()


def _web_request_init(self: Any, *args: Any, **kwargs: Any) -> None:
    _original_web_request_init(self, *args, **kwargs)
    self._parsePOSTFormSubmission = False


# After a refusal, bytes the client already sent are read and dropped for at most this long
# (the write side is closed at once): closing with unread input makes the kernel reset the
# connection, and a client still sending would lose the answer with it.
REFUSED_LINGER_S = 2.0


def _header(request: Any, name: bytes) -> str:
    values = request.requestHeaders.getRawHeaders(name) or [b""]
    return values[0].decode("latin-1")


def _body_limited_got_length(self: Any, length: int | None) -> None:
    """Twisted's ``Request.gotLength``: refuse a declared length over the endpoint's limit."""
    from imserver.api.request_limits import max_body_bytes, target_path

    channel = self.channel
    self._im_body_limit = max_body_bytes(
        getattr(channel, "_command", b"").decode("latin-1"),
        target_path(getattr(channel, "_path", b"")),
        _header(self, b"content-type"),
    )
    self._im_body_received = 0
    if length is not None and length > self._im_body_limit:
        self.content = None
        _refuse_body(self)
        return
    _original_got_length(self, length)


def _body_limited_handle_content_chunk(self: Any, data: bytes) -> None:
    if self.__dict__.get("_im_body_refused"):
        return
    limit = self.__dict__.get("_im_body_limit")
    if limit is not None:
        self._im_body_received += len(data)
        if self._im_body_received > limit:
            _refuse_body(self)
            return
    _original_handle_content_chunk(self, data)


def _body_limited_request_received(self: Any, command: bytes, path: bytes, version: bytes) -> None:
    if self.__dict__.get("_im_body_refused"):
        return  # answered already: the application never sees this request
    _original_request_received(self, command, path, version)


def _refuse_body(request: Any) -> None:
    """Answer 413 on the raw connection, drop the rest of the body, close."""
    from imserver.api.request_limits import raw_refusal

    request._im_body_refused = True
    if request.content is not None:
        request.content.close()  # a chunked body's first bytes: gone now
    request.content = io.BytesIO()
    channel = request.channel
    if channel is None or channel.transport is None:
        return
    channel.persistent = False
    # Twisted would answer "Expect: 100-continue" right after gotLength: not to a refusal.
    channel._send100Continue = lambda: None
    transport = channel.transport
    transport.write(
        raw_refusal(
            method=getattr(channel, "_command", b"").decode("latin-1"),
            target=getattr(channel, "_path", b""),
            content_type=_header(request, b"content-type"),
            accept_language=_header(request, b"accept-language"),
            request_id=_header(request, b"x-request-id"),
        )
    )
    channel.dataReceived = lambda data: None  # what follows on this connection is dropped
    try:
        transport.loseWriteConnection()
    except (AttributeError, NotImplementedError):
        channel.loseConnection()
        return
    from twisted.internet import reactor

    reactor.callLater(REFUSED_LINGER_S, transport.loseConnection)


_original_got_length: Any = None
_original_handle_content_chunk: Any = None
_original_request_received: Any = None


def install_body_limit() -> bool:
    """Patch daphne's requests once; False (daphne untouched) when daphne is not installed."""
    global _original_got_length, _original_handle_content_chunk, _original_request_received
    try:
        from daphne.http_protocol import WebRequest
    except ImportError:
        return False
    if _original_got_length is not None:
        return True
    _original_got_length = WebRequest.gotLength
    _original_handle_content_chunk = WebRequest.handleContentChunk
    _original_request_received = WebRequest.requestReceived
    WebRequest.gotLength = _body_limited_got_length
    WebRequest.handleContentChunk = _body_limited_handle_content_chunk
    WebRequest.requestReceived = _body_limited_request_received
    return True


_original_create_application: Any = None
_original_handle_reply: Any = None
_original_web_request_init: Any = None


def install() -> bool:
    """Patch daphne once; False (and daphne untouched) when its internals are not the known ones."""
    global _original_create_application, _original_handle_reply, _original_web_request_init
    try:
        from daphne.http_protocol import WebRequest
        from daphne.server import Server
    except ImportError:
        return False
    if _original_create_application is not None:
        return True
    if not all(hasattr(Server, name) for name in ("create_application", "handle_reply")):
        logger.warning("daphne internals changed; request bodies are not streamed")
        return False
    _original_create_application = Server.create_application
    _original_handle_reply = Server.handle_reply
    _original_web_request_init = WebRequest.__init__
    Server.create_application = _create_application
    Server.handle_reply = _handle_reply
    WebRequest.__init__ = _web_request_init
    return True
