"""The receiving side of fan-out (the message itself: ``imserver/fanout_wire.py``): each event
loop with sockets listens on ``FANOUT_GROUP`` and hands a fanned-out push to those of its own
sockets whose users are among the recipients. The recipients were computed when the push was
committed (a group's members under the conversation's row lock), so no membership is mirrored
into the channel layer, and a member who has just left gets nothing.
"""

import asyncio
import logging
from typing import Any, Protocol

from channels.layers import get_channel_layer

from imserver import metrics
from imserver.fanout_wire import FANOUT_GROUP

logger = logging.getLogger("realtime")


class Socket(Protocol):
    async def send(self, text_data: str | None = None) -> None: ...


# Seconds a stopping listener waits to leave the fan-out group; the group's expiry in the
# channel layer removes a membership that could not be discarded.
LEAVE_TIMEOUT_S = 2


class LocalSockets:
    """The open sockets of one event loop by user, and the listener of ``im.fanout``.

    The listener runs while the loop has sockets; the first socket starts it (and fails to
    connect if the channel layer is down), the last one to leave stops it, and the session
    checker (``realtime.sessions``) with it.
    """

    def __init__(self) -> None:
        self.by_user: dict[int, set[Socket]] = {}
        self.open_count = 0
        self.listener: asyncio.Task[None] | None = None
        self.session_checker: asyncio.Task[None] | None = None
        self.lock = asyncio.Lock()

    async def add(self, user_id: int, socket: Socket) -> None:
        async with self.lock:
            if self.listener is None:
                layer = get_channel_layer()
                # The default prefix: channels-redis's list layer reads all of a process's
                # channels with one blocking pop on one key, and a channel of another prefix
                # would wait out that pop's timeout.
                channel = await layer.new_channel()
                await layer.group_add(FANOUT_GROUP, channel)
                self.listener = asyncio.create_task(self._listen(layer, channel))
            sockets = self.by_user.setdefault(user_id, set())
            if socket not in sockets:
                sockets.add(socket)
                self.open_count += 1
                metrics.OPEN_SOCKETS.inc()

    def remove(self, user_id: int, socket: Socket) -> None:
        sockets = self.by_user.get(user_id)
        if sockets is not None and socket in sockets:
            sockets.discard(socket)
            self.open_count -= 1
            metrics.OPEN_SOCKETS.dec()
            if not sockets:
                del self.by_user[user_id]
        if not self.by_user:
            for task in (self.listener, self.session_checker):
                if task is not None:
                    task.cancel()
            self.listener = self.session_checker = None

    async def _listen(self, layer: Any, channel: str) -> None:
        try:
            while True:
                try:
                    message = await layer.receive(channel)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    task = asyncio.current_task()
                    if task is not None and task.cancelling():
                        # Stopped: redis-py turns a cancellation inside its reads into its own
                        # TimeoutError, which must not keep this loop going.
                        raise asyncio.CancelledError from None
                    # The "lists" layer while Redis is down; it reconnects.
                    logger.exception("receiving fan-out pushes failed")
                    metrics.CHANNEL_LAYER_ERRORS.inc()
                    await asyncio.sleep(1)
                    continue
                await self.deliver(message["user_ids"], message["text"])
        finally:
            try:  # bounded: a stuck layer must not keep a stopping listener (or loop) alive
                async with asyncio.timeout(LEAVE_TIMEOUT_S):
                    await layer.group_discard(FANOUT_GROUP, channel)
            except Exception:  # the layer may be down or the loop closing
                logger.debug("leaving %s failed", FANOUT_GROUP, exc_info=True)

    async def deliver(self, user_ids: list[int], text: str) -> None:
        delivered = failed = 0  # counted once per push, not once per socket
        for user_id in user_ids:
            for socket in list(self.by_user.get(user_id, ())):
                try:
                    await socket.send(text_data=text)
                except Exception:  # a socket closing right now; the others still get it
                    logger.debug("push to a closing socket of user %s failed", user_id)
                    failed += 1
                else:
                    delivered += 1
        if delivered:
            metrics.PUSHES_DELIVERED.inc(delivered)
        if failed:
            metrics.PUSHES_FAILED_SOCKET.inc(failed)


_by_loop: dict[asyncio.AbstractEventLoop, LocalSockets] = {}


def local_sockets() -> LocalSockets:
    """This event loop's registry (tests run several loops in one process)."""
    loop = asyncio.get_running_loop()
    registry = _by_loop.get(loop)
    if registry is None:
        for old in [old for old in _by_loop if old.is_closed()]:
            del _by_loop[old]
        registry = _by_loop[loop] = LocalSockets()
    return registry
