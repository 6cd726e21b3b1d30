"""Bodies over the endpoint's limit are refused by daphne before they are read.

Twisted reads a whole request body (into a temporary file from 100 kB on) before daphne or
Django see the request. Here a ``Content-Length`` over the endpoint's limit
(imserver/api/request_limits.py) is answered with the 413 envelope as soon as the headers are
in, and a body without one once its bytes go over; nothing of it is stored, the application
never runs, and the connection closes after the answer. Independent of
``IM_DAPHNE_STREAMING_BODY``: the limit is no streaming option.
"""

import io
from typing import Any

from imserver.api.request_limits import max_body_bytes, raw_refusal, target_path
from imserver.overrides.gate import Calls, Override

_GOT_LENGTH_CALLS = Calls()
_CONTENT_CHUNK_CALLS = Calls()

# After a refusal, bytes the client already sent are read and dropped for at most this long
# (the write side is closed at once): closing with unread input makes the kernel reset the
# connection, and a client still sending would lose the answer with it.
REFUSED_LINGER_S = 2.0


def _header(request: Any, name: bytes) -> str:
    values: list[bytes] = request.requestHeaders.getRawHeaders(name) or [b""]
    return values[0].decode("latin-1")


def _body_limited_got_length(self: Any, length: int | None) -> None:
    """Twisted's ``Request.gotLength``: refuse a declared length over the endpoint's limit."""
    _GOT_LENGTH_CALLS.count += 1
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
    _CONTENT_CHUNK_CALLS.count += 1
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

    # Twisted declares its interfaces' methods without ``self``, which mypy counts as an argument.
    reactor.callLater(REFUSED_LINGER_S, transport.loseConnection)  # type: ignore[arg-type]


_original_got_length: Any = None
_original_handle_content_chunk: Any = None
_original_request_received: Any = None


def _patch() -> None:
    global _original_got_length, _original_handle_content_chunk, _original_request_received
    from daphne.http_protocol import WebRequest

    _original_got_length = WebRequest.gotLength
    _original_handle_content_chunk = WebRequest.handleContentChunk
    _original_request_received = WebRequest.requestReceived
    WebRequest.gotLength = _body_limited_got_length
    WebRequest.handleContentChunk = _body_limited_handle_content_chunk
    WebRequest.requestReceived = _body_limited_request_received


OVERRIDE = Override(
    "daphne_body_limit",
    servers=("daphne",),
    written_for={"daphne": "4.2.3", "twisted": "26.10.0"},
    needs=(
        "daphne.http_protocol:WebRequest.gotLength",
        "daphne.http_protocol:WebRequest.handleContentChunk",
        "daphne.http_protocol:WebRequest.requestReceived",
        "twisted.web.http:HTTPChannel.persistent",
        "twisted.web.http:HTTPChannel._send100Continue",
    ),
    patch=_patch,
    hooks={
        "WebRequest.gotLength": _GOT_LENGTH_CALLS,
        "WebRequest.handleContentChunk": _CONTENT_CHUNK_CALLS,
    },
)
