"""Local delivery: a push to a user whose sockets are all on this event loop is handed to them
here, without the channel layer's round trip to Redis and back.

Only with the pub/sub Redis layer (the default with ``REDIS_URL``), where every event loop with
sockets has one listener channel subscribed to the push group of each of its users
(``realtime.fanout``). The listener registers itself here (``set_listener_finder``), and tells
for which users a push may skip the layer (``Listener.may_skip_layer``):

- the user's group has delivered a message to this listener since it joined, so its
  subscription is live in Redis;
- no push this loop published to the user, and no fan-out push this loop published (to many
  users, on the group every process reads), is still on its way back (``expect_echo``; the
  listener counts them off as they arrive): a push handed over here must not overtake one that
  went through Redis.

For such a user one script runs in Redis, atomically: if the group's only subscriber is a
connection that also holds this listener's own channel (so it is this loop's), nothing is
published and the push is delivered here; otherwise it is published as ``group_send`` would.
A socket elsewhere that joined the group before the script ran therefore gets the push through
Redis as before, and every socket gets each push once. Pushes that must keep their order with
pushes of other processes (edits and recalls under ``chat.ordering``) never skip: they are sent
from synchronous code (``imserver.publish._send_logged``), which always publishes.

After Redis restarts, the pub/sub connection re-subscribes all its channels in one command, so
the listener's own channel is subscribed exactly when its users' groups are again.
"""

from collections.abc import Callable
from typing import Any, Protocol

from channels.layers import get_channel_layer
from django.conf import settings

from imserver import metrics
from imserver.per_loop import PerLoop
from imserver.redis_clients import waiting_client

# Publish only when someone other than the caller's connection listens. KEYS[1]: the group's
# Redis channel, KEYS[2]: the caller's listener channel; ARGV[1]: the serialized message.
# Returns -1 when it published nothing, else PUBLISH's count of receivers.
_SCRIPT = """
local counts = redis.call('PUBSUB', 'NUMSUB', KEYS[1], KEYS[2])
if counts[2] == 1 and counts[4] == 1 then
  return -1
end
return redis.call('PUBLISH', KEYS[1], ARGV[1])
"""
NOT_PUBLISHED = -1


class Listener(Protocol):
    """This event loop's listener, as the sending side sees it (``realtime.fanout``)."""

    channel: str | None

    def holds(self, user_id: int) -> bool: ...

    def may_skip_layer(self, user_id: int) -> bool: ...

    def expect_echo(self, user_id: int | None) -> None: ...

    def echo_cancelled(self, user_id: int | None) -> None: ...

    async def deliver(self, user_ids: list[int], text: str) -> None: ...


def _no_listener() -> Listener | None:
    return None


_find_listener: list[Callable[[], Listener | None]] = [_no_listener]


def set_listener_finder(find: Callable[[], Listener | None]) -> None:
    """``find()``: the running event loop's listener, or None (``realtime`` sets it)."""
    _find_listener[0] = find


def enabled() -> bool:
    backend = settings.CHANNEL_LAYERS["default"]["BACKEND"]
    return backend == "channels_redis.pubsub.RedisPubSubChannelLayer" and settings.IM_LOCAL_DELIVERY


_scripts = PerLoop(
    lambda: waiting_client(settings.CHANNEL_LAYER_REDIS_URL).register_script(_SCRIPT)
)


async def send_to_user(
    group: str, user_id: int, message: dict[str, Any], *, may_skip: bool
) -> None:
    """``group_send(group, message)``, where ``group`` is ``user_id``'s push group; delivered
    here instead when ``may_skip`` and nobody else listens. A push to a user whose group this
    loop's listener is in names the listener (``origin``): it comes back to it, and is counted
    off there."""
    layer = get_channel_layer()
    listener = _find_listener[0]() if enabled() else None
    if listener is None or listener.channel is None or not listener.holds(user_id):
        await layer.group_send(group, message)
        return
    message = {**message, "origin": listener.channel}
    skip = may_skip and listener.may_skip_layer(user_id)
    listener.expect_echo(user_id)
    try:
        if not skip:
            await layer.group_send(group, message)
            return
        published = await _scripts.get()(
            keys=[layer._get_group_channel_name(group), listener.channel],
            args=[layer.serialize(message)],
        )
    except BaseException:  # nothing comes back
        listener.echo_cancelled(user_id)
        raise
    if published == NOT_PUBLISHED:
        listener.echo_cancelled(user_id)
        metrics.PUSHES_LOCAL.inc()
        await listener.deliver([user_id], message["text"])


async def send_to_all(group: str, message: dict[str, Any]) -> None:
    """``group_send`` to the fan-out group, which this loop's listener reads too: the push names
    the listener, which counts it off when it comes back (``user_id`` None: every user)."""
    layer = get_channel_layer()
    listener = _find_listener[0]() if enabled() else None
    if listener is None or listener.channel is None:
        await layer.group_send(group, message)
        return
    listener.expect_echo(None)
    try:
        await layer.group_send(group, {**message, "origin": listener.channel})
    except BaseException:
        listener.echo_cancelled(None)
        raise
