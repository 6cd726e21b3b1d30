"""The one way services push events to users: ``publish_on_commit``.

Events go to the per-user channel-layer group after the surrounding transaction commits, so a
rolled-back write never reaches a socket. A failing channel layer is logged, never raised: the
data is already stored and clients catch up with ``after_seq``.

The frame is serialized once here, whatever the number of recipients, and the sockets send that
text as it is. Synchronous code that runs on a lane for a request or a socket frame (inside
``deferred_pushes``) does not block on the channel layer: its pushes are handed back and sent on the
event loop as soon as it returns, in the order they were committed. Inside ``immediate_pushes``
they go out at commit instead, before the block ends, also within ``deferred_pushes``: for
code that must know its pushes have reached the channel layer before it lets go of a lock.
"""

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import Any

from asgiref.sync import async_to_sync
from django.db import transaction

from imserver import local_delivery, metrics
from imserver.fanout_wire import DIRECT_MAX, FANOUT_GROUP, fanout_message

logger = logging.getLogger("imserver.publish")

# The channel-layer message type the WebSocket consumer handles (``push`` -> ``def push``).
PUSH_MESSAGE_TYPE = "push"
REVOKE_MESSAGE_TYPE = "session.revoke"


def user_group_name(user_id: int) -> str:
    return f"user.{user_id}"


def publish_on_commit(
    user_ids: Iterable[int],
    event_type: str,
    data: dict[str, Any],
    *,
    route_size: int | None = None,
) -> None:
    """Send ``{"type": event_type, "data": data}`` to every connection of ``user_ids`` on commit.

    The number of recipients picks the route (``send_to_users``), and two pushes reach a socket
    in the order they were handed to the channel layer only on the same route. A push that must
    stay in order with another one to more users passes that push's recipient count as
    ``route_size``, so both take the route of the larger."""
    recipients = sorted(set(user_ids))
    if not recipients:
        return
    transaction.on_commit(lambda: deliver(recipients, event_type, data, route_size=route_size))


def revoke_sessions_on_commit(user_id: int, token_version: int) -> None:
    """Close every socket of the user opened with a token older than ``token_version``."""
    message = {"type": REVOKE_MESSAGE_TYPE, "user_id": user_id, "token_version": token_version}
    transaction.on_commit(lambda: _send_logged([user_id], message, "revoke"))


def push_message(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """The channel-layer message of one push: the WebSocket frame's text, ready to send."""
    frame = json.dumps({"type": event_type, "data": data}, ensure_ascii=False)
    return {"type": PUSH_MESSAGE_TYPE, "text": frame}


def deliver(
    user_ids: list[int],
    event_type: str,
    data: dict[str, Any],
    *,
    route_size: int | None = None,
) -> None:
    _send_logged(user_ids, push_message(event_type, data), event_type, route_size)


Push = tuple[list[int], dict[str, Any], str, int | None]


class _Pending:
    """The pushes of one ``deferred_pushes`` block. Closed once sent: a task that inherited the
    context variable and outlives the block then sends its pushes itself instead of adding them
    here, where nobody would send them."""

    def __init__(self) -> None:
        self.pushes: list[Push] = []
        self.open = True


# Set by ``deferred_pushes`` around synchronous code called from the event loop.
_pending_pushes: ContextVar[_Pending | None] = ContextVar("im_pending_pushes", default=None)


@asynccontextmanager
async def deferred_pushes() -> AsyncIterator[None]:
    """Pushes committed by the synchronous (lane) calls inside this block go out from the event
    loop when it ends, in commit order, even if it ends with an exception. Saves each push two
    thread hand-offs (lane -> loop -> lane) and keeps the lane free while Redis answers. Blocks
    nest: the outermost sends (so a socket's ``ack`` can go before its own message's echo)."""
    enclosing = _pending_pushes.get()
    if enclosing is not None and enclosing.open:  # the enclosing block sends them
        yield
        return
    pending = _Pending()
    token = _pending_pushes.set(pending)
    try:
        yield
    finally:
        _pending_pushes.reset(token)
        pending.open = False
        for user_ids, message, what, route_size in pending.pushes:
            await _send_logged_async(user_ids, message, what, route_size)


@contextmanager
def immediate_pushes() -> Iterator[None]:
    """Pushes committed inside this block are handed to the channel layer at commit, before the
    block ends, even inside ``deferred_pushes`` (whose other pushes still wait for it). Held
    around a transaction with a lock taken before it and released after this block, the lock
    orders the pushes as it orders the writes (``chat.ordering``). Pushes of a transaction
    that commits after the block (one it did not open) are not sent here."""
    token = _pending_pushes.set(None)
    try:
        yield
    finally:
        _pending_pushes.reset(token)


def _send_logged(
    user_ids: list[int], message: dict[str, Any], what: str, route_size: int | None = None
) -> None:
    pending = _pending_pushes.get()
    if pending is not None and pending.open:
        pending.pushes.append((user_ids, message, what, route_size))
        return
    try:  # pushes ordered by a lock always go through the layer (imserver.local_delivery)
        async_to_sync(send_to_users)(user_ids, message, route_size, may_skip=False)
    except Exception:
        logger.exception("push %s to %d users failed", what, len(user_ids))
        _count_failure(user_ids, message)


async def _send_logged_async(
    user_ids: list[int], message: dict[str, Any], what: str, route_size: int | None = None
) -> None:
    try:
        await send_to_users(user_ids, message, route_size)
    except Exception:
        logger.exception("push %s to %d users failed", what, len(user_ids))
        _count_failure(user_ids, message)


def _count_failure(user_ids: list[int], message: dict[str, Any]) -> None:
    """A channel-layer error; a push (not a revocation) is lost for each of its recipients."""
    metrics.CHANNEL_LAYER_ERRORS.inc()
    if message["type"] == PUSH_MESSAGE_TYPE:
        metrics.PUSHES_FAILED_CHANNEL_LAYER.inc(len(user_ids))


async def push_now(user_ids: list[int], event_type: str, data: dict[str, Any]) -> None:
    """Push from async code that has no transaction to wait for (socket-level events)."""
    await _send_logged_async(user_ids, push_message(event_type, data), event_type)


# Group sends in flight at once: a group message fans out to every member's group, and one at a
# time each waits for its Redis round trips in turn.
FAN_OUT_CONCURRENCY = 32


async def send_to_users(
    user_ids: list[int],
    message: dict[str, Any],
    route_size: int | None = None,
    *,
    may_skip: bool = True,
) -> None:
    """Up to ``DIRECT_MAX`` recipients (or ``route_size``), to each user's group, naming the user
    (one process's listener is in the groups of all its users: ``realtime/fanout.py``), or,
    when ``may_skip``, straight to this loop's sockets of a user nobody else listens for
    (``imserver.local_delivery``); above, once to the fan-out group that every process reads,
    with the recipients' ids."""
    size = max(len(user_ids), route_size or 0)
    if size > DIRECT_MAX and message["type"] == PUSH_MESSAGE_TYPE:
        await local_delivery.send_to_all(FANOUT_GROUP, fanout_message(user_ids, message["text"]))
        return
    for start in range(0, len(user_ids), FAN_OUT_CONCURRENCY):
        batch = user_ids[start : start + FAN_OUT_CONCURRENCY]
        await asyncio.gather(
            *(
                local_delivery.send_to_user(
                    user_group_name(uid), uid, {**message, "user_id": uid}, may_skip=may_skip
                )
                for uid in batch
            )
        )
