"""The one way services push events to users: ``publish_on_commit``.

Events go to the per-user channel-layer group after the surrounding transaction commits, so a
rolled-back write never reaches a socket. A failing channel layer is logged, never raised: the
data is already stored and clients catch up with ``after_seq``.
"""

import logging
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger("imserver.realtime")

# The channel-layer message type the WebSocket consumer handles (``push`` -> ``def push``).
PUSH_MESSAGE_TYPE = "push"


def user_group_name(user_id: int) -> str:
    return f"user.{user_id}"


def publish_on_commit(user_ids: Iterable[int], event_type: str, data: dict[str, Any]) -> None:
    """Send ``{"type": event_type, "data": data}`` to every connection of ``user_ids`` on commit."""
    recipients = sorted(set(user_ids))
    if not recipients:
        return
    transaction.on_commit(lambda: deliver(recipients, event_type, data))


def deliver(user_ids: list[int], event_type: str, data: dict[str, Any]) -> None:
    message = {"type": PUSH_MESSAGE_TYPE, "event": {"type": event_type, "data": data}}
    try:
        async_to_sync(_group_send_all)(user_ids, message)
    except Exception:
        logger.exception("push %s to %d users failed", event_type, len(user_ids))


async def _group_send_all(user_ids: list[int], message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    for user_id in user_ids:
        await layer.group_send(user_group_name(user_id), message)
