"""Django's ASGI handler with the whole middleware chain and the view in one synchronous call.

Django's own ASGI handler keeps every async-capable middleware async and adapts around the
sync-only ones (ours, WhiteNoise) and the sync views: each request went from the event loop to a
thread, back to the loop for the inner middleware, and to a thread again for the view, and once
more to a pool thread to log an error answer. Every hop is a thread hand-off and a GIL switch;
under load they cost more CPU than the view itself (docs/benchmarks). Here the loop hands the
request to a lane thread once (imserver/realtime/lanes.py), and everything runs there.
"""

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpRequest, HttpResponseBase

from imserver.realtime.publish import deferred_pushes


class OneHopASGIHandler(ASGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)  # a purely synchronous chain

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        # BaseHandler.get_response: the chain, the request's closers, the 4xx/5xx log line.
        # The pushes the request commits go out from the loop before the answer does.
        async with deferred_pushes():
            return await sync_to_async(self.get_response, thread_sensitive=True)(request)
