"""publish_on_commit delivers after commit, never on rollback, and survives a dead layer."""

import asyncio
import contextvars
import json

import pytest
from channels.layers import get_channel_layer
from django.db import transaction

from imserver.overrides.lanes import run_sync
from imserver.publish import deferred_pushes, publish_on_commit, user_group_name

pytestmark = pytest.mark.django_db


def test_event_is_delivered_only_after_commit(push_recorder, django_capture_on_commit_callbacks):
    push_recorder.listen(1, 2)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        publish_on_commit([2, 1, 2], "friend_request", {"request_id": 9})
        assert push_recorder.events(1, timeout=0.05) == []
    assert len(callbacks) == 1
    expected = [{"type": "friend_request", "data": {"request_id": 9}}]
    assert push_recorder.events(1) == expected
    assert push_recorder.events(2) == expected


def test_rolled_back_write_pushes_nothing(push_recorder, django_capture_on_commit_callbacks):
    push_recorder.listen(1)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                publish_on_commit([1], "message", {"x": 1})
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
    assert callbacks == []
    assert push_recorder.events(1, timeout=0.05) == []


def test_a_failing_channel_layer_is_logged_not_raised(
    settings, caplog, django_capture_on_commit_callbacks
):
    from channels.layers import channel_layers

    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }
    channel_layers.backends.clear()
    try:
        with django_capture_on_commit_callbacks(execute=True):
            publish_on_commit([1], "message", {"x": 1})
    finally:
        channel_layers.backends.clear()
    assert "push message to 1 users failed" in caplog.text


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_pushes_committed_in_run_sync_go_out_when_it_returns_even_if_it_raises():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(user_group_name(7), channel)

    def commit_then_fail() -> None:
        with transaction.atomic():
            publish_on_commit([7], "committed", {"n": 1})
        try:
            with transaction.atomic():
                publish_on_commit([7], "rolled_back", {"n": 2})
                raise ValueError("roll back")
        except ValueError:
            pass
        raise RuntimeError("fails after its commit")

    with pytest.raises(RuntimeError):
        await run_sync(commit_then_fail)
    message = await asyncio.wait_for(layer.receive(channel), 1)
    assert json.loads(message["text"]) == {"type": "committed", "data": {"n": 1}}
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(layer.receive(channel), 0.1)


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_code_that_outlives_its_deferred_block_still_pushes():
    """A task started inside a block inherits its context; once the block has sent its pushes,
    what the task commits later must not wait in the closed block (nobody would send it)."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(user_group_name(7), channel)
    async with deferred_pushes():
        inherited = contextvars.copy_context()

    def commit() -> None:
        with transaction.atomic():
            publish_on_commit([7], "late", {"n": 3})

    await asyncio.get_running_loop().create_task(run_sync(commit), context=inherited)
    message = await asyncio.wait_for(layer.receive(channel), 1)
    assert json.loads(message["text"]) == {"type": "late", "data": {"n": 3}}


async def _join(layer, group: str) -> str:
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    return channel


def test_route_size_sends_a_small_push_the_way_a_large_one_goes(
    django_capture_on_commit_callbacks,
):
    """A push to two users with ``route_size`` above ``DIRECT_MAX`` takes the fan-out group (the
    route of the larger push it must stay in order with), not the users' own groups."""
    from imserver.fanout_wire import DIRECT_MAX, FANOUT_GROUP

    layer = get_channel_layer()

    async def scenario() -> tuple[dict, list]:
        fanout = await _join(layer, FANOUT_GROUP)
        direct = await _join(layer, user_group_name(1))
        await asyncio.to_thread(_publish)
        received = await asyncio.wait_for(layer.receive(fanout), 2)
        try:
            stray = [await asyncio.wait_for(layer.receive(direct), 0.1)]
        except TimeoutError:
            stray = []
        return received, stray

    def _publish() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            publish_on_commit([1, 2], "edit", {"x": 1}, route_size=DIRECT_MAX + 1)

    received, stray = asyncio.run(scenario())
    assert received["user_ids"] == [1, 2]
    assert json.loads(received["text"]) == {"type": "edit", "data": {"x": 1}}
    assert stray == []
