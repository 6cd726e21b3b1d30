"""The WebSocket handshake: JWT from ``Authorization: Bearer`` or ``?token=``, and origins."""

from typing import Any
from urllib.parse import parse_qs

from channels.middleware import BaseMiddleware
from channels.security.websocket import OriginValidator
from django.conf import settings


def token_from_scope(scope: dict[str, Any]) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    query = parse_qs(scope.get("query_string", b"").decode("latin1"))
    tokens = query.get("token")
    return tokens[0] if tokens and tokens[0] else None


class JwtAuthMiddleware(BaseMiddleware):
    """Puts the raw access token (or None) in ``scope["token"]``. The consumer checks it: the
    signature before the socket joins its user's push group, the user after (so a revocation
    committed in between is either read or delivered)."""

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        return await super().__call__(dict(scope, token=token_from_scope(scope)), receive, send)


class BrowserOriginValidator(OriginValidator):
    """Native clients send no ``Origin`` and are let in; a browser's must be an allowed host."""

    def valid_origin(self, parsed_origin: Any) -> bool:
        if parsed_origin is None:
            return True
        return super().valid_origin(parsed_origin)


def allowed_origins() -> list[str]:
    hosts = [host for host in settings.ALLOWED_HOSTS if host]
    return [*hosts, *settings.IM_WS_ALLOWED_ORIGINS]
