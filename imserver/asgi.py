"""ASGI entry point: HTTP to Django, WebSocket ``/ws`` to the client consumer (CONTRACT 7)."""

import gc
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imserver.settings")
django.setup(set_prefix=False)

# Imported after Django is set up: they load models.
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import path  # noqa: E402

from imserver.overrides import (  # noqa: E402
    autobahn_quiet,
    daphne_limits,
    prepared_frames,
    write_through,
)
from imserver.overrides.http_handler import OneHopASGIHandler  # noqa: E402
from imserver.overrides.lanes import http_on_lanes  # noqa: E402
from realtime.auth import BrowserOriginValidator, JwtAuthMiddleware, allowed_origins  # noqa: E402
from realtime.consumers import ClientConsumer  # noqa: E402

django_asgi_app = OneHopASGIHandler()
autobahn_quiet.install()
write_through.install()
prepared_frames.install()
daphne_limits.install(
    max_frame_bytes=settings.IM_WS_MAX_FRAME_BYTES,
    max_buffered_bytes=settings.IM_WS_MAX_BUFFERED_BYTES,
)

# The event loop (sockets, pushes) waits for the GIL behind the lane threads; at Python's
# default 5 ms a push took up to seconds to get through under load (docs/benchmarks).
sys.setswitchinterval(settings.IM_GIL_SWITCH_MS / 1000)

if settings.IM_GC_GEN0_THRESHOLD:
    # Everything loaded so far (Django, models, URL conf) lives as long as the process: no
    # collection needs to scan it again. Young collections then run less often; under load
    # the default (every 700 allocations) showed as latency spikes (docs/benchmarks).
    gc.collect()
    gc.freeze()
    gc.set_threshold(settings.IM_GC_GEN0_THRESHOLD, *gc.get_threshold()[1:])

application = ProtocolTypeRouter(
    {
        # Each request's synchronous code on one of a few long-lived threads, so database
        # connections persist (imserver/overrides/lanes.py).
        "http": http_on_lanes(django_asgi_app),
        "websocket": BrowserOriginValidator(
            JwtAuthMiddleware(URLRouter([path("ws", ClientConsumer.as_asgi())])),
            allowed_origins(),
        ),
    }
)
