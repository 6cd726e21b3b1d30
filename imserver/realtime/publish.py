"""The one way services push events to users: ``publish_on_commit``.

Events go to the per-user channel-layer group after the surrounding transaction commits, so a
rolled-back write never reaches a socket. A failing channel layer is logged, never raised: the
data is already stored and clients catch up with ``after_seq``.
"""

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger("imserver.realtime")

# The channel-layer message type the WebSocket consumer handles (``push`` -> ``def push``).
PUSH_MESSAGE_TYPE = "push"
REVOKE_MESSAGE_TYPE = "session.revoke"


def user_group_name(user_id: int) -> str:
    return f"user.{user_id}"


def publish_on_commit(user_ids: Iterable[int], event_type: str, data: dict[str, Any]) -> None:
    """Send ``{"type": event_type, "data": data}`` to every connection of ``user_ids`` on commit."""
    recipients = sorted(set(user_ids))
    if not recipients:
        return
    transaction.on_commit(lambda: deliver(recipients, event_type, data))


def revoke_sessions_on_commit(user_id: int, token_version: int) -> None:
    """Close every socket of the user opened with a token older than ``token_version``."""
    message = {"type": REVOKE_MESSAGE_TYPE, "token_version": token_version}
    transaction.on_commit(lambda: _send_logged([user_id], message, "revoke"))


def deliver(user_ids: list[int], event_type: str, data: dict[str, Any]) -> None:
    message = {"type": PUSH_MESSAGE_TYPE, "event": {"type": event_type, "data": data}}
    _send_logged(user_ids, message, event_type)


def _send_logged(user_ids: list[int], message: dict[str, Any], what: str) -> None:
    try:
        async_to_sync(send_to_users)(user_ids, message)
    except Exception:
        logger.exception("push %s to %d users failed", what, len(user_ids))


async def push_now(user_ids: list[int], event_type: str, data: dict[str, Any]) -> None:
    """Push from async code that has no transaction to wait for (socket-level events)."""
    message = {"type": PUSH_MESSAGE_TYPE, "event": {"type": event_type, "data": data}}
    try:
        await send_to_users(user_ids, message)
    except Exception:
        logger.exception("push %s to %d users failed", event_type, len(user_ids))


# Group sends in flight at once: a group message fans out to every member's group, and one at a
# time each waits for its Redis round trips in turn.
FAN_OUT_CONCURRENCY = 32


async def send_to_users(user_ids: list[int], message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    for start in range(0, len(user_ids), FAN_OUT_CONCURRENCY):
        batch = user_ids[start : start + FAN_OUT_CONCURRENCY]
        await asyncio.gather(*(layer.group_send(user_group_name(uid), message) for uid in batch))
