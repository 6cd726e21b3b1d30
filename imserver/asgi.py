"""ASGI entry point: HTTP to Django, WebSocket ``/ws`` to the client consumer (CONTRACT 7).

The composition root: the HTTP side is the one-hop handler on lanes where the server entry
point (imserver/serve.py) installed those overrides, Django's own ASGI handler otherwise
(``daphne imserver.asgi:application`` run directly, tests in one process).
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imserver.settings")
django.setup(set_prefix=False)

# Imported after Django is set up: they load models.
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.core.handlers.asgi import ASGIHandler  # noqa: E402
from django.urls import path, re_path  # noqa: E402

from imserver import overrides  # noqa: E402
from imserver.api.body_guard import BodyLimit  # noqa: E402
from imserver.overrides.http_handler import OneHopASGIHandler  # noqa: E402
from imserver.overrides.lanes import ASGIApp, http_on_lanes  # noqa: E402
from realtime.auth import (  # noqa: E402
    BrowserOriginValidator,
    JwtAuthMiddleware,
    allowed_origins,
    refuse_unknown_path,
    with_socket_log,
)
from realtime.consumers import ClientConsumer  # noqa: E402


def http_application() -> ASGIApp:
    handler = OneHopASGIHandler() if overrides.is_active("http_handler") else ASGIHandler()
    # Each request's synchronous code on one of a few long-lived threads, so database
    # connections persist (imserver/overrides/lanes.py).
    return http_on_lanes(handler) if overrides.is_active("lanes") else handler


application = ProtocolTypeRouter(
    {
        # A body over its endpoint's limit is refused before it is read, on any server.
        "http": BodyLimit(http_application()),
        # Each connection's log lines carry its connection id (imserver/logs.py).
        "websocket": with_socket_log(
            BrowserOriginValidator(
                JwtAuthMiddleware(
                    URLRouter(
                        [
                            path("ws", ClientConsumer.as_asgi()),
                            # django-stubs types a route's target as a view; Channels' router
                            # takes ASGI applications.
                            re_path(r"", refuse_unknown_path),  # type: ignore[arg-type]
                        ]
                    )
                ),
                allowed_origins(),
            )
        ),
    }
)
