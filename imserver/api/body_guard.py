"""Bodies over the endpoint's limit are refused at the application's entry, whatever the ASGI
server (imserver/asgi.py wraps the HTTP side in :class:`BodyLimit`).

- A ``Content-Length`` over :func:`max_body_bytes` is answered 413 in the envelope before a byte
  of the body is asked for: the server reads nothing more than it buffered with the headers,
  and sends no ``100 Continue``.
- A body without one (``Transfer-Encoding: chunked``) is passed on as it arrives and counted;
  once over the limit the application sees the client leave (``http.disconnect``: Django stops
  reading and answers nothing) and the request is answered 413 here.

Either way the answer says ``Connection: close``; what the client still sends is read and
dropped for at most :data:`REFUSED_LINGER_S` before the connection closes, as closing with
unread input makes the kernel reset the connection and a client still sending would lose the
answer with it. Nothing of the body is stored. Daphne refuses such bodies itself before the
application runs (imserver/overrides/daphne_body_limit.py); this holds under any server.
"""

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from imserver.api.request_id import REQUEST_ID_HEADER
from imserver.api.request_limits import body_refusal, max_body_bytes

Receive = Callable[[], Awaitable[Mapping[str, Any]]]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[dict[str, Any], Receive, Send], Awaitable[None]]

REFUSED_LINGER_S = 2.0
_REQUEST_ID = REQUEST_ID_HEADER.lower().encode("latin-1")


def _headers(scope: dict[str, Any]) -> dict[bytes, bytes]:
    """The request headers this guard reads (the first of each)."""
    wanted = {b"content-length", b"content-type", b"transfer-encoding", b"accept-language"}
    found: dict[bytes, bytes] = {}
    headers: Iterable[tuple[bytes, bytes]] = scope.get("headers", ())
    for name, value in headers:
        key = name.lower()
        if (key in wanted or key == _REQUEST_ID) and key not in found:
            found[key] = value
    return found


def _declared_length(headers: dict[bytes, bytes]) -> int | None:
    raw = headers.get(b"content-length")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return None  # the server refuses such a request before the application


async def _refuse(
    scope: dict[str, Any], headers: dict[bytes, bytes], receive: Receive, send: Send
) -> None:
    status, request_id, body = body_refusal(
        method=scope.get("method", ""),
        path=scope.get("path", ""),
        content_type=headers.get(b"content-type", b"").decode("latin-1"),
        accept_language=headers.get(b"accept-language", b"").decode("latin-1"),
        request_id=headers.get(_REQUEST_ID, b"").decode("latin-1"),
    )
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode("latin-1")),
                (_REQUEST_ID, request_id.encode("latin-1")),
                (b"connection", b"close"),
            ],
        }
    )
    # The whole answer is out; the response ends (and the server closes the connection) once
    # the client stopped sending, or after the linger.
    await send({"type": "http.response.body", "body": body, "more_body": True})
    try:
        async with asyncio.timeout(REFUSED_LINGER_S):
            while True:
                message = await receive()
                if message["type"] != "http.request" or not message.get("more_body", False):
                    break
    except TimeoutError:
        pass
    await send({"type": "http.response.body", "body": b"", "more_body": False})


class BodyLimit:
    """``app`` (HTTP scopes) behind the body limit of imserver/api/request_limits.py."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        app = self.app
        headers = _headers(scope)
        declared = _declared_length(headers)
        if declared is None and b"transfer-encoding" not in headers:
            await app(scope, receive, send)  # no body
            return
        limit = max_body_bytes(
            scope.get("method", ""),
            scope.get("path", ""),
            headers.get(b"content-type", b"").decode("latin-1"),
        )
        if declared is not None:
            if declared > limit:
                await _refuse(scope, headers, receive, send)
            else:  # the server holds the body to its declared length
                await app(scope, receive, send)
            return

        received = 0
        over = answered = False

        async def counted_receive() -> Mapping[str, Any]:
            nonlocal received, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    return {"type": "http.disconnect"}
            return message

        async def watched_send(message: Mapping[str, Any]) -> None:
            nonlocal answered
            answered = True
            await send(message)

        await app(scope, counted_receive, watched_send)
        if over and not answered:
            await _refuse(scope, headers, receive, send)
