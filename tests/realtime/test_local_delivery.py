"""Local delivery (imserver/local_delivery.py) on the pub/sub Redis layer: a push to a user
whose only listener is this event loop skips Redis; with another listener (a raw subscriber on
the group's Redis channel standing for another process) it is published; each socket gets every
push once, in the order they were sent, whichever way each went."""

import json

import pytest
import redis.asyncio as aioredis
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from prometheus_client import REGISTRY

from imserver.fanout_wire import DIRECT_MAX
from imserver.publish import push_now, send_to_users, user_group_name
from realtime.fanout import local_sockets
from tests.support.stuck_socket import hold_listener

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio,
    pytest.mark.requires_redis,
]


def kept_local() -> float:
    return REGISTRY.get_sample_value("imserver_pushes_local_total") or 0.0


class OtherProcess:
    """A subscriber of the user's group channel on a connection of its own."""

    def __init__(self, channel: str) -> None:
        self.client = aioredis.Redis.from_url(settings.CHANNEL_LAYER_REDIS_URL)
        self.pubsub = self.client.pubsub()
        self.channel = channel
        self.received: list[dict] = []

    async def __aenter__(self) -> "OtherProcess":
        await self.pubsub.subscribe(self.channel)
        while (await self.pubsub.get_message(timeout=1)) is None:  # the confirmation
            pass
        return self

    async def collect(self) -> list[dict]:
        layer = get_channel_layer()
        while (message := await self.pubsub.get_message(timeout=0.3)) is not None:
            if message["type"] == "message":
                self.received.append(layer.deserialize(message["data"]))
        return self.received

    async def __aexit__(self, *exc: object) -> None:
        await self.pubsub.unsubscribe(self.channel)
        await self.pubsub.aclose()
        await self.client.aclose()


async def numbers(socket, count: int) -> list[int]:
    return [(await socket.receive_type("n"))["i"] for _ in range(count)]


async def live_socket(open_socket, user):
    """A socket of ``user`` whose push group has delivered to this loop's listener (its
    subscription is live, so pushes to ``user`` may be kept local from now on)."""
    _connected, socket = await open_socket(user)
    await push_now([user.pk], "n", {"i": 0})
    assert await numbers(socket, 1) == [0]
    return socket


@pytest.fixture
def pubsub_layer():
    if settings.CHANNEL_LAYERS["default"]["BACKEND"] != (
        "channels_redis.pubsub.RedisPubSubChannelLayer"
    ):
        pytest.skip("local delivery works with the pub/sub layer (IM_CHANNEL_LAYER=pubsub)")


async def test_pushes_skip_redis_only_while_no_other_process_listens(
    pubsub_layer, make_user, open_socket
):
    alice = await database_sync_to_async(make_user)("alice")
    _connected, first = await open_socket(alice)
    _connected, second = await open_socket(alice)
    sent = iter(range(1000))

    async def push(count: int) -> None:
        for _ in range(count):
            await push_now([alice.pk], "n", {"i": next(sent)})

    # The first push goes through Redis and shows the listener's subscription is live.
    await push(1)
    assert await numbers(first, 1) == await numbers(second, 1) == [0]
    before = kept_local()
    await push(20)
    assert kept_local() - before == 20  # nobody else listens: none went through Redis
    expected = list(range(1, 21))
    assert await numbers(first, 20) == await numbers(second, 20) == expected

    group_channel = get_channel_layer()._get_group_channel_name(user_group_name(alice.pk))
    async with OtherProcess(group_channel) as other:
        before = kept_local()
        await push(20)
        assert kept_local() == before  # published: the other process gets them too
        expected = list(range(21, 41))
        assert await numbers(first, 20) == await numbers(second, 20) == expected
        received = await other.collect()
        assert [m["user_id"] for m in received] == [alice.pk] * 20
    # Alone again: once its own pushes are back, the loop keeps them here again.
    await push(20)
    assert await numbers(first, 20) == await numbers(second, 20) == list(range(41, 61))
    before = kept_local()
    await push(5)
    assert kept_local() - before == 5
    assert await numbers(first, 5) == await numbers(second, 5) == list(range(61, 66))
    assert await first.nothing() and await second.nothing()  # each push once


async def test_pushes_ordered_by_a_lock_always_go_through_redis(
    pubsub_layer, make_user, open_socket
):
    """``may_skip=False``: what ``chat.ordering``'s edits and recalls send (from synchronous
    code) is published even when this loop is the only listener."""
    bob = await database_sync_to_async(make_user)("bob")
    socket = await live_socket(open_socket, bob)
    before = kept_local()
    frame = '{"type": "n", "data": {"i": 1}}'
    await send_to_users([bob.pk], {"type": "push", "text": frame}, may_skip=False)
    assert await numbers(socket, 1) == [1]
    assert kept_local() == before


async def test_a_push_kept_local_never_overtakes_a_fan_out_push_of_the_same_loop(
    pubsub_layer, make_user, open_socket
):
    """A push to many users goes through Redis on the group every process reads; while one this
    loop sent has not come back (here: the listener is held up in a write), pushes to single
    users here go through Redis too, behind it."""
    carol, dave = [await database_sync_to_async(make_user)(name) for name in ("carol", "dave")]
    socket = await live_socket(open_socket, carol)
    registry = local_sockets()
    stuck = await hold_listener(registry, dave.pk)

    many = [carol.pk, *range(10**6, 10**6 + DIRECT_MAX)]  # beyond DIRECT_MAX: fan-out
    before = kept_local()
    await send_to_users(many, {"type": "push", "text": json.dumps({"type": "n", "data": {"i": 1}})})
    await push_now([carol.pk], "n", {"i": 2})
    assert kept_local() == before
    stuck.release.set()
    assert await numbers(socket, 2) == [1, 2]
    await registry.remove(dave.pk, stuck)


async def test_a_push_kept_local_never_overtakes_one_the_loop_sent_through_redis(
    pubsub_layer, make_user, open_socket
):
    """Erin's push went through Redis while another process listened; that process has left,
    but the push has not come back to this loop's listener yet: the next push to Erin goes
    through Redis too, behind it."""
    erin, frank = [await database_sync_to_async(make_user)(name) for name in ("erin", "frank")]
    socket = await live_socket(open_socket, erin)
    registry = local_sockets()
    stuck = await hold_listener(registry, frank.pk)

    group_channel = get_channel_layer()._get_group_channel_name(user_group_name(erin.pk))
    async with OtherProcess(group_channel):
        await push_now([erin.pk], "n", {"i": 1})
    before = kept_local()
    await push_now([erin.pk], "n", {"i": 2})
    assert kept_local() == before
    stuck.release.set()
    assert await numbers(socket, 2) == [1, 2]
    await registry.remove(frank.pk, stuck)
