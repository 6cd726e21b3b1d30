"""With REDIS_URL set, cache and channel layer are Redis and work across connections."""

import pytest
from channels.layers import get_channel_layer
from django.core.cache import cache, caches

from imserver.publish import publish_on_commit

pytestmark = [pytest.mark.requires_redis, pytest.mark.django_db]


def test_cache_is_redis_and_round_trips():
    assert type(caches["default"]).__name__ == "RedisCache"
    cache.set("probe", 41)
    assert cache.incr("probe") == 42


def test_published_event_crosses_the_redis_channel_layer(
    settings, push_recorder, django_capture_on_commit_callbacks
):
    expected = {"pubsub": "RedisPubSubChannelLayer", "lists": "RedisChannelLayer"}
    assert type(get_channel_layer()).__name__ == expected[settings.IM_CHANNEL_LAYER]
    push_recorder.listen(7)
    with django_capture_on_commit_callbacks(execute=True):
        publish_on_commit([7], "probe", {"n": 1})
    assert push_recorder.events(7, timeout=2) == [{"type": "probe", "data": {"n": 1}}]
