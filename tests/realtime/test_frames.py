"""The frame registry: each /ws frame type has one handler, registered by the app that owns it."""

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from chat import frames as chat_frames
from realtime.frames import register_frame, registered_frame


async def another_handler(socket: Any, data: dict[str, Any]) -> None:
    """Stands in for a second app's handler."""


def test_the_apps_frames_are_registered_when_django_starts():
    assert registered_frame("message").handler is chat_frames.on_message
    assert registered_frame("read").handler is chat_frames.on_read
    assert registered_frame("typing").per_second() > 0
    assert registered_frame("ping") is None  # the consumer's own


@pytest.mark.parametrize("frame_type", ["ping", "auth", "message"])
def test_a_taken_frame_type_is_refused(frame_type):
    with pytest.raises(ImproperlyConfigured):
        register_frame(frame_type, another_handler)


def test_registering_the_same_handler_again_changes_nothing():
    register_frame("message", chat_frames.on_message)
    assert registered_frame("message").handler is chat_frames.on_message
