"""Where pushes reach sockets: each event loop with sockets has one listener channel on the
channel layer, which joins the push group of every user with a socket on this loop
(``user.<id>``) and ``FANOUT_GROUP``, and hands what arrives to this loop's sockets of those
users. A push costs the channel layer one message per process that has sockets of its user,
not one per socket, and a socket holds no channel, queue or subscription of its own.

What the listener receives (``imserver/publish.py`` sends it):

- ``push`` with ``user_id`` and ``text``: the frame for that user's sockets here;
- ``fanout`` with ``user_ids`` and ``text`` (``imserver/fanout_wire.py``): the frame for the
  sockets here of those users. The recipients were computed when the push was committed (a
  group's members under the conversation's row lock), so no membership is mirrored into the
  channel layer, and a member who has just left gets nothing;
- ``session.revoke`` with ``user_id`` and ``token_version``: handed to that user's sockets.

One listener reads them in the order the channel layer delivers them, so each socket gets its
pushes in that order, once each. An event of any other type is logged and dropped.
"""

import asyncio
import contextvars
import logging
from typing import Any, Protocol

from channels.layers import get_channel_layer

from imserver import metrics
from imserver.fanout_wire import FANOUT_GROUP, FANOUT_MESSAGE_TYPE
from imserver.per_loop import PerLoop
from imserver.publish import PUSH_MESSAGE_TYPE, REVOKE_MESSAGE_TYPE, user_group_name

logger = logging.getLogger("realtime")


class Socket(Protocol):
    presence_id: str
    in_presence: bool  # its presence entry is written

    async def push_text(self, text: str) -> None: ...

    async def session_revoke(self, message: dict[str, Any]) -> None: ...


# Seconds a stopping listener waits to leave its groups; their expiry in the channel layer
# removes a membership that could not be discarded.
LEAVE_TIMEOUT_S = 2


class LocalSockets:
    """The open sockets of one event loop by user, and the loop's listener.

    The listener runs while the loop has sockets; the first socket starts it (and fails to
    connect if the channel layer is down), the last one to leave stops it, and with it the
    session checker (``realtime.sessions``) and the presence refresher (``realtime.presence``).
    The listener's channel is in a user's push group from before that user's first socket here
    is registered until after the last one left.
    """

    def __init__(self) -> None:
        self.by_user: dict[int, set[Socket]] = {}
        self.open_count = 0
        self.channel: str | None = None
        # The users whose push group the running listener's channel joined; of those, the ones
        # whose group has delivered to it since (its subscription is live); and for each user,
        # the pushes this loop published that have not come back yet (imserver.local_delivery;
        # None: the fan-out pushes, which hold back local delivery to every user).
        self.joined: set[int] = set()
        self.live: set[int] = set()
        self.echoes_due: dict[int | None, int] = {}
        self.listener: asyncio.Task[None] | None = None
        self.session_checker: asyncio.Task[None] | None = None
        self.presence_refresher: asyncio.Task[None] | None = None
        self.lock = asyncio.Lock()

    async def add(self, user_id: int, socket: Socket) -> None:
        """Register ``socket``; when this returns, the user's pushes reach it. Raises when the
        channel layer cannot be joined (nothing is registered then)."""
        async with self.lock:
            try:
                await self._join(user_id)
            except BaseException:
                if not self.by_user:
                    self._stop()
                raise
            sockets = self.by_user.setdefault(user_id, set())
            if socket not in sockets:
                sockets.add(socket)
                self.open_count += 1
                metrics.OPEN_SOCKETS.inc()

    async def _join(self, user_id: int) -> None:
        layer = get_channel_layer()
        if self.listener is None:
            # The default prefix: channels-redis's list layer reads all of a process's
            # channels with one blocking pop on one key, and a channel of another prefix
            # would wait out that pop's timeout.
            channel = await layer.new_channel()
            self.channel, self.joined, self.live, self.echoes_due = channel, set(), set(), {}
            # In a context of its own: its log lines are not the first socket's.
            self.listener = asyncio.create_task(
                self._listen(layer, channel, self.joined), context=contextvars.Context()
            )
            await layer.group_add(FANOUT_GROUP, channel)
        if user_id not in self.joined:
            await layer.group_add(user_group_name(user_id), self.channel)
            self.joined.add(user_id)

    async def remove(self, user_id: int, socket: Socket) -> None:
        async with self.lock:
            sockets = self.by_user.get(user_id)
            if sockets is None or socket not in sockets:
                return
            sockets.discard(socket)
            self.open_count -= 1
            metrics.OPEN_SOCKETS.dec()
            if sockets:
                return
            del self.by_user[user_id]
            if not self.by_user:  # the listener leaves all its groups as it stops
                self._stop()
                return
            # Under the lock: a socket of the same user registering meanwhile joins after this.
            self.joined.discard(user_id)
            self.live.discard(user_id)
            self.echoes_due.pop(user_id, None)
            try:  # a membership left behind only costs this listener events it drops
                async with asyncio.timeout(LEAVE_TIMEOUT_S):
                    await get_channel_layer().group_discard(user_group_name(user_id), self.channel)
            except Exception:
                logger.debug("leaving the push group of user %s failed", user_id, exc_info=True)

    def _stop(self) -> None:
        for task in (self.listener, self.session_checker, self.presence_refresher):
            if task is not None:
                task.cancel()
        self.listener = self.session_checker = self.presence_refresher = None
        self.channel = None

    async def _listen(self, layer: Any, channel: str, joined: set[int]) -> None:
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
                    logger.exception("receiving pushes failed")
                    metrics.CHANNEL_LAYER_ERRORS.inc()
                    await asyncio.sleep(1)
                    continue
                try:
                    await self.handle(message)
                except Exception:  # one bad event must not stop the pushes of this loop
                    logger.exception("handling a %r event failed", message.get("type"))
        finally:
            try:  # bounded: a stuck layer must not keep a stopping listener (or loop) alive
                async with asyncio.timeout(LEAVE_TIMEOUT_S):
                    await layer.group_discard(FANOUT_GROUP, channel)
                    for user_id in list(joined):
                        await layer.group_discard(user_group_name(user_id), channel)
            except Exception:  # the layer may be down or the loop closing
                logger.debug("leaving the listener's groups failed", exc_info=True)

    def presence_entries(self) -> list[tuple[int, str]]:
        """The presence entry (user, connection) of every socket here that holds one."""
        return [
            (user_id, socket.presence_id)
            for user_id, sockets in self.by_user.items()
            for socket in sockets
            if socket.in_presence
        ]

    # --- local delivery (imserver.local_delivery) ----------------------------------------------
    def holds(self, user_id: int) -> bool:
        return user_id in self.joined

    def may_skip_layer(self, user_id: int) -> bool:
        return (
            user_id in self.live
            and not self.echoes_due.get(user_id)
            and not self.echoes_due.get(None)
        )

    def expect_echo(self, user_id: int | None) -> None:
        self.echoes_due[user_id] = self.echoes_due.get(user_id, 0) + 1

    def echo_cancelled(self, user_id: int | None) -> None:
        due = self.echoes_due.get(user_id, 0) - 1
        if due > 0:
            self.echoes_due[user_id] = due
        else:
            self.echoes_due.pop(user_id, None)

    def _arrived(self, message: dict[str, Any]) -> None:
        """A user's group delivered ``message``: its subscription is live, and a push of ours
        is back."""
        user_id = message.get("user_id")
        if user_id not in self.joined:
            return
        self.live.add(user_id)
        if self.channel is not None and message.get("origin") == self.channel:
            self.echo_cancelled(user_id)

    async def handle(self, message: dict[str, Any]) -> None:
        """One event from the channel layer (see the module's docstring)."""
        kind = message.get("type")
        if kind in (PUSH_MESSAGE_TYPE, REVOKE_MESSAGE_TYPE):
            self._arrived(message)
        elif kind == FANOUT_MESSAGE_TYPE and self.channel and message.get("origin") == self.channel:
            self.echo_cancelled(None)
        if kind == PUSH_MESSAGE_TYPE:
            await self.deliver([message["user_id"]], message["text"])
        elif kind == FANOUT_MESSAGE_TYPE:
            await self.deliver(message["user_ids"], message["text"])
        elif kind == REVOKE_MESSAGE_TYPE:
            for socket in list(self.by_user.get(message["user_id"], ())):
                await socket.session_revoke(message)
        else:
            logger.warning("an event of unknown type %r was dropped", kind)

    async def deliver(self, user_ids: list[int], text: str) -> None:
        delivered = failed = 0  # counted once per push, not once per socket
        for user_id in user_ids:
            for socket in list(self.by_user.get(user_id, ())):
                try:
                    await socket.push_text(text)
                except Exception:  # a socket closing right now; the others still get it
                    logger.debug("push to a closing socket of user %s failed", user_id)
                    failed += 1
                else:
                    delivered += 1
        if delivered:
            metrics.PUSHES_DELIVERED.inc(delivered)
        if failed:
            metrics.PUSHES_FAILED_SOCKET.inc(failed)


_registries: PerLoop[LocalSockets] = PerLoop(LocalSockets)


def running_listener() -> LocalSockets | None:
    """This event loop's registry, if it has one (for ``imserver.local_delivery``)."""
    return _registries.current()


def local_sockets() -> LocalSockets:
    """This event loop's registry (tests run several loops in one process)."""
    return _registries.get()
