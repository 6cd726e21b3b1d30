"""Django's ASGI handler with a request's synchronous work in one thread hand-off.

Django's own ASGI handler keeps every async-capable middleware async and adapts around the
sync-only ones (ours, WhiteNoise) and the sync views: a request goes from the event loop to a
thread, back to the loop for the inner middleware, to a thread again for the view, and once more
to a pool thread to log an error answer; around that, the ``request_started`` signal and the
response's ``close()`` (``request_finished``) are two more hand-offs, each a GIL switch. Here
the loop hands the request to its lane (imserver/overrides/lanes.py) once: the signals, the
middleware chain and the view all run there. imserver/asgi.py uses this handler only while the
override is active.

Given up from Django's handler: cancelling the view when the client disconnects, which a
synchronous view never notices anyway.

A body larger than the endpoint accepts (imserver/api/request_limits.py) is never read: with a
``Content-Length`` over the limit nothing is read, without one reading stops at the first chunk
over it; either way the request goes on with an empty body and the limits middleware answers
413. Under daphne the server itself refuses such bodies earlier
(imserver/overrides/daphne_body_limit.py).
"""

import io
import tempfile
from collections.abc import Iterable
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse, HttpResponseBase
from django.urls import set_script_prefix

from imserver.api.request_limits import max_body_bytes
from imserver.overrides.gate import Calls, Override
from imserver.publish import deferred_pushes

OVERRIDE = Override(
    "http_handler",
    written_for={"django": "5.2.19", "asgiref": "3.13.0"},
    needs=(
        "django.core.handlers.asgi:ASGIHandler.handle",
        "django.core.handlers.asgi:ASGIHandler.load_middleware",
        "django.core.handlers.asgi:ASGIHandler.create_request",
        "django.core.handlers.asgi:ASGIHandler.send_response",
        "django.core.handlers.asgi:ASGIHandler.chunk_size",
        "django.core.handlers.asgi:ASGIHandler.get_response",
    ),
    # Django's ASGIHandler.__call__ and __init__ call these.
    hooks={"ASGIHandler.handle": Calls(), "ASGIHandler.load_middleware": Calls()},
)
_HANDLE_CALLS = OVERRIDE.hooks["ASGIHandler.handle"]
_LOAD_MIDDLEWARE_CALLS = OVERRIDE.hooks["ASGIHandler.load_middleware"]


def _header(scope: dict[str, Any], name: bytes) -> str:
    headers: Iterable[tuple[bytes, bytes]] = scope.get("headers", ())
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


def _body_limit(scope: dict[str, Any]) -> int:
    return max_body_bytes(
        scope.get("method", ""), scope.get("path", ""), _header(scope, b"content-type")
    )


def _declared_length(scope: dict[str, Any]) -> int:
    try:
        return int(_header(scope, b"content-length") or 0)
    except ValueError:
        return 0


class OneHopASGIHandler(ASGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        _LOAD_MIDDLEWARE_CALLS.count += 1
        super().load_middleware(is_async=False)  # a purely synchronous chain

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        _HANDLE_CALLS.count += 1
        limit = _body_limit(scope)
        try:
            if _declared_length(scope) > limit:
                body_file, over_limit = io.BytesIO(), True
            else:
                body_file, over_limit = await self.read_body_within(receive, limit)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        try:
            # The pushes the request commits go out from the loop before the answer does.
            async with deferred_pushes():
                response = await sync_to_async(self._respond, thread_sensitive=True)(
                    scope, body_file, over_limit
                )
            await self.send_response(response, send)
            if response.streaming:  # its iterator is done only now
                await sync_to_async(response.close, thread_sensitive=True)()
        finally:
            body_file.close()

    async def read_body_within(self, receive: Any, limit: int) -> tuple[Any, bool]:
        """Django's ``read_body`` that stops at the first chunk taking the body over ``limit``:
        (what was read, False), or (an empty file, True)."""
        body_file = tempfile.SpooledTemporaryFile(  # noqa: SIM115  (closed by handle())
            max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE, mode="w+b"
        )
        received = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                body_file.close()
                raise RequestAborted()
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                body_file.close()
                return io.BytesIO(), True
            body_file.write(chunk)
            if not message.get("more_body", False):
                break
        body_file.seek(0)
        return body_file, False

    def _respond(
        self, scope: dict[str, Any], body_file: Any, over_limit: bool = False
    ) -> HttpResponseBase:
        """``request_started``, the request (or the 400/413 of an unreadable one) through the
        middleware chain and the view, and ``request_finished`` unless the body streams.
        ``over_limit``: the body was not read; the limits middleware answers 413."""
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            # Ours on Django's request, read by imserver.api.request_limits.
            request.body_over_limit = over_limit  # type: ignore[attr-defined]
            # BaseHandler.get_response: the chain, the request's closers, the 4xx/5xx log line.
            response = self.get_response(request)
            # Django's private attribute (request_finished's sender), set as its handler does.
            response._handler_class = self.__class__  # type: ignore[attr-defined]
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        assert response is not None  # create_request gives a request or an error response
        if not response.streaming:
            response.close()
        return response
