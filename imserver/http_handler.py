"""Django's ASGI handler with a request's synchronous work in one thread hand-off.

Django's own ASGI handler keeps every async-capable middleware async and adapts around the
sync-only ones (ours, WhiteNoise) and the sync views: each request went from the event loop to a
thread, back to the loop for the inner middleware, and to a thread again for the view, and once
more to a pool thread to log an error answer; around that, the ``request_started`` signal and
the response's ``close()`` (``request_finished``) were two more hand-offs. Every hop is a thread
hand-off and a GIL switch; under load they cost more CPU than the view itself
(docs/benchmarks). Here the loop hands the request to a lane thread once
(imserver/realtime/lanes.py): the signals, the middleware chain and the view all run there.

Given up from Django's handler: cancelling the view when the client disconnects, which a
synchronous view never noticed anyway.
"""

from typing import Any

from asgiref.sync import sync_to_async
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse, HttpResponseBase
from django.urls import set_script_prefix

from imserver.realtime.publish import deferred_pushes


class OneHopASGIHandler(ASGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)  # a purely synchronous chain

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        try:
            # The pushes the request commits go out from the loop before the answer does.
            async with deferred_pushes():
                response = await sync_to_async(self._respond, thread_sensitive=True)(
                    scope, body_file
                )
            await self.send_response(response, send)
            if response.streaming:  # its iterator is done only now
                await sync_to_async(response.close, thread_sensitive=True)()
        finally:
            body_file.close()

    def _respond(self, scope: dict[str, Any], body_file: Any) -> HttpResponseBase:
        """``request_started``, the request (or the 400/413 of an unreadable one) through the
        middleware chain and the view, and ``request_finished`` unless the body streams."""
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            # BaseHandler.get_response: the chain, the request's closers, the 4xx/5xx log line.
            response = self.get_response(request)
            response._handler_class = self.__class__
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        if not response.streaming:
            response.close()
        return response
