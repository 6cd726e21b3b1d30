"""How long a ``/ws`` session lives (CONTRACT 12).

- The handshake's token is checked for signature, type and expiry before the socket joins its
  user's push group, and against the user (token version, ban, active) after it has joined: a
  revocation committed in between is either seen by that read or pushed to the group.
- A socket lives until its token's ``exp``; an ``auth`` frame with a valid access token of the
  same user that expires no earlier moves that time (``token_renewal``).
- Revocations (password change, ban, "log out everywhere") are pushed to the user's sockets and
  close them at once. Pushes can be lost (the channel layer down at that moment, a process that
  did the revocation without reaching the layer), so every ``IM_WS_SESSION_CHECK_S`` each event
  loop also reads the users of all its sockets in one query and closes the ones that no longer
  hold (``check_sessions``).
"""

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework_simplejwt.exceptions import AuthenticationFailed

from accounts.authentication import (
    token_user_id,
    user_for_validated_token,
    validated_access_token,
)
from accounts.selectors import session_states
from accounts.tokens import TOKEN_VERSION_CLAIM
from imserver.api.errors import AppError, ErrorCode, invalid_parameter_message
from imserver.overrides.lanes import run_sync
from realtime.fanout import LocalSockets

logger = logging.getLogger("realtime")


@dataclass(frozen=True)
class Grant:
    """What an access token allows a socket: whose it is, its version and until when."""

    user_id: int
    token_version: int | None
    expires_at: int


def grant_for(raw_token: str) -> tuple[Grant, Any]:
    """The grant of an access token and the validated token, without the database; raises
    ``AuthenticationFailed`` for a bad, expired or wrong-type token."""
    token = validated_access_token(raw_token)
    user_id = token_user_id(token)
    if user_id is None:
        raise AuthenticationFailed(_("Token contained no recognizable user identification"))
    return Grant(user_id, token.get(TOKEN_VERSION_CLAIM), int(token["exp"])), token


def token_renewal(user_id: int, data: dict[str, Any]) -> Grant:
    """The grant of the token in an ``auth`` frame's ``data``, if it is a valid access token of
    ``user_id`` right now (runs on a lane: it reads the user). 40000 for a missing token, 40001
    for any token that would not open a socket for this user."""
    raw = data.get("token")
    if not isinstance(raw, str) or not raw.strip():
        raise AppError(
            ErrorCode.BAD_REQUEST, invalid_parameter_message(_("This field is required."), "token")
        )
    grant, token = grant_for(raw.strip())
    if grant.user_id != user_id:
        raise AuthenticationFailed(_("Token belongs to another user"))
    user_for_validated_token(token)
    return grant


async def check_sessions(registry: LocalSockets) -> None:
    """Every ``IM_WS_SESSION_CHECK_S``: the users of every socket in ``registry`` in one
    read, and each socket told its user's state. Runs while the registry has sockets."""
    while True:
        await asyncio.sleep(settings.IM_WS_SESSION_CHECK_S)
        user_ids = list(registry.by_user)
        if not user_ids:
            continue
        try:
            states = await run_sync(session_states, user_ids)
        except Exception:  # the database is down: the next round tries again
            logger.exception("re-reading the users of %d sockets failed", registry.open_count)
            continue
        for user_id in user_ids:
            for socket in list(registry.by_user.get(user_id, ())):
                try:
                    await socket.recheck(states.get(user_id))  # type: ignore[attr-defined]
                except Exception:  # one socket closing badly must not stop the others' checks
                    logger.exception("re-checking a socket of user %s failed", user_id)


def ensure_session_checker(registry: LocalSockets) -> None:
    """Start the registry's checker unless it runs (the registry stops it with its last
    socket)."""
    if registry.session_checker is None or registry.session_checker.done():
        registry.session_checker = asyncio.create_task(check_sessions(registry))
