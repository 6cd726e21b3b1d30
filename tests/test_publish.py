"""publish_on_commit delivers after commit, never on rollback, and survives a dead layer."""

import pytest
from django.db import transaction

from imserver.realtime.publish import publish_on_commit

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
