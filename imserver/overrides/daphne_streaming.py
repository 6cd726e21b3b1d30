"""Keep large request bodies out of memory, and streamed responses paced by the client, under
daphne (django/daphne#483):

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
   slowly the client reads. A Twisted push producer registered on the request makes the
   application's ``send`` wait while the socket's buffer is full (real back-pressure).

``IM_DAPHNE_STREAMING_BODY=0`` turns this override off (docs/files.md).
"""

import asyncio
import io
import os
from functools import partial
from typing import IO, Any

from django.conf import settings
from twisted.internet.interfaces import IPushProducer
from zope.interface import implementer

from imserver.overrides.gate import Calls, Override

# Bodies Twisted keeps in memory (under 100 kB) stay on daphne's own path.
LAZY_BODY_MIN_BYTES = 100_000
BODY_CHUNK_BYTES = 64 * 1024

_CREATE_APPLICATION_CALLS = Calls()
_HANDLE_REPLY_CALLS = Calls()
_WEB_REQUEST_INIT_CALLS = Calls()


class LazyBodyQueue(asyncio.Queue[dict[str, Any]]):
    """An application input queue that serves ``http.request`` messages from a spooled file."""

    def __init__(self, body: IO[bytes]) -> None:
        super().__init__()
        body.seek(0, os.SEEK_END)
        self._size = body.tell()
        body.seek(0)
        self._body: IO[bytes] | None = body
        self._dropped_daphne_body = False

    def put_nowait(self, item: dict[str, Any]) -> None:
        # Daphne still "sends" the (now empty) body it was left with: drop that one message.
        if not self._dropped_daphne_body and item.get("type") == "http.request":
            self._dropped_daphne_body = True
            return
        super().put_nowait(item)

    async def get(self) -> dict[str, Any]:
        body = self._body
        if body is None:
            return await super().get()
        chunk = body.read(BODY_CHUNK_BYTES)
        more_body = body.tell() < self._size
        if not more_body:
            body.close()
            self._body = None
        return {"type": "http.request", "body": chunk, "more_body": more_body}


def _spooled_body(protocol: Any, scope: dict[str, Any]) -> IO[bytes] | None:
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


def _create_application(self: Any, protocol: Any, scope: dict[str, Any]) -> Any:
    """daphne.server.Server.create_application, with a lazy queue for spooled HTTP bodies."""
    _CREATE_APPLICATION_CALLS.count += 1
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


async def _handle_reply(self: Any, protocol: Any, message: dict[str, Any]) -> None:
    """daphne.server.Server.handle_reply, waiting while a streamed body's client lags behind."""
    _HANDLE_REPLY_CALLS.count += 1
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
    _WEB_REQUEST_INIT_CALLS.count += 1
    _original_web_request_init(self, *args, **kwargs)
    self._parsePOSTFormSubmission = False


_original_create_application: Any = None
_original_handle_reply: Any = None
_original_web_request_init: Any = None


def _patch() -> None:
    global _original_create_application, _original_handle_reply, _original_web_request_init
    from daphne.http_protocol import WebRequest
    from daphne.server import Server

    _original_create_application = Server.create_application
    _original_handle_reply = Server.handle_reply
    _original_web_request_init = WebRequest.__init__
    Server.create_application = _create_application
    Server.handle_reply = _handle_reply
    WebRequest.__init__ = _web_request_init


def _turned_off() -> str | None:
    return None if settings.IM_DAPHNE_STREAMING_BODY else "IM_DAPHNE_STREAMING_BODY=0"


OVERRIDE = Override(
    "daphne_streaming",
    servers=("daphne",),
    written_for={"daphne": "4.2.3", "twisted": "26.10.0"},
    needs=(
        "daphne.server:Server.create_application",
        "daphne.server:Server.handle_reply",
        "daphne.http_protocol:WebRequest.__init__",
        "daphne.http_protocol:WebRequest.registerProducer",
    ),
    patch=_patch,
    turned_off=_turned_off,
    hooks={
        "Server.create_application": _CREATE_APPLICATION_CALLS,
        "Server.handle_reply": _HANDLE_REPLY_CALLS,
        "WebRequest.__init__": _WEB_REQUEST_INIT_CALLS,
    },
)
