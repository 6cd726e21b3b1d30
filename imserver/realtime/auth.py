"""The WebSocket handshake: JWT from ``Authorization: Bearer`` or ``?token=``, and origins."""

from typing import Any
from urllib.parse import parse_qs

from channels.middleware import BaseMiddleware
from channels.security.websocket import OriginValidator
from django.conf import settings
from rest_framework_simplejwt.exceptions import AuthenticationFailed

from accounts.authentication import user_for_access_token
from accounts.models import User
from imserver.realtime.lanes import run_sync


def token_from_scope(scope: dict[str, Any]) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    query = parse_qs(scope.get("query_string", b"").decode("latin1"))
    tokens = query.get("token")
    return tokens[0] if tokens and tokens[0] else None


def _user_for(raw_token: str) -> User | None:
    try:
        return user_for_access_token(raw_token)
    except AuthenticationFailed:
        return None


class JwtAuthMiddleware(BaseMiddleware):
    """Puts the authenticated user (or None) in ``scope["user"]``; the consumer refuses None."""

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        raw_token = token_from_scope(scope)
        scope = dict(scope, user=await run_sync(_user_for, raw_token) if raw_token else None)
        return await super().__call__(scope, receive, send)


class BrowserOriginValidator(OriginValidator):
    """Native clients send no ``Origin`` and are let in; a browser's must be an allowed host."""

    def valid_origin(self, parsed_origin: Any) -> bool:
        if parsed_origin is None:
            return True
        return super().valid_origin(parsed_origin)


def allowed_origins() -> list[str]:
    hosts = [host for host in settings.ALLOWED_HOSTS if host]
    return [*hosts, *settings.IM_WS_ALLOWED_ORIGINS]
