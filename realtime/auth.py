"""The WebSocket handshake: JWT from ``Authorization: Bearer`` or ``?token=``, origins, and the
log context of each connection (imserver/logs.py)."""

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from channels.security.websocket import OriginValidator
from django.conf import settings

from imserver.logs import log_handshake, socket_log_bound

SocketApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def with_socket_log(application: SocketApp) -> SocketApp:
    """The outermost layer of ``/ws``: every line logged for the connection, from the origin
    check to the consumer's last, carries its ``connection_id`` (and ``user_id`` once read)."""

    async def logged(scope: dict[str, Any], receive: Any, send: Any) -> None:
        with socket_log_bound(scope.get("path", "")):
            await application(scope, receive, send)

    return logged


async def refuse_unknown_path(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A WebSocket handshake on any path but ``/ws``: refused (403) and logged once."""
    await receive()  # websocket.connect
    log_handshake(403, "no WebSocket endpoint at this path")
    await send({"type": "websocket.close"})


def token_from_scope(scope: dict[str, Any]) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            header: str = value.decode("latin1")
            scheme, _, token = header.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    query = parse_qs(scope.get("query_string", b"").decode("latin1"))
    tokens = query.get("token")
    return tokens[0] if tokens and tokens[0] else None


class JwtAuthMiddleware:
    """Puts the raw access token (or None) in ``scope["token"]``. The consumer checks it: the
    signature before the socket joins its user's push group, the user after (so a revocation
    committed in between is either read or delivered).

    The key is added to the scope in place: nothing outside reads it, and each copy of a scope
    would stay alive as long as its socket."""

    def __init__(self, application: SocketApp) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        scope["token"] = token_from_scope(scope)
        await self.application(scope, receive, send)


class BrowserOriginValidator(OriginValidator):  # type: ignore[misc]  # channels ships no types
    """Native clients send no ``Origin`` and are let in; a browser's must be an allowed host."""

    def valid_origin(self, parsed_origin: Any) -> bool:
        if parsed_origin is None:
            return True
        allowed: bool = super().valid_origin(parsed_origin)
        if not allowed:
            log_handshake(403, "origin not allowed")
        return allowed


def allowed_origins() -> list[str]:
    hosts = [host for host in settings.ALLOWED_HOSTS if host]
    return [*hosts, *settings.IM_WS_ALLOWED_ORIGINS]
