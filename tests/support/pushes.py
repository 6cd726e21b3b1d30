"""Read what ``publish_on_commit`` delivered, from the real channel layer."""

import asyncio
import json
from collections.abc import Coroutine
from typing import Any

from channels.layers import get_channel_layer

from imserver.realtime.publish import user_group_name


class PushRecorder:
    """Subscribes a channel to users' groups, like a connected socket would, and reads events.

    All receiving happens on one private event loop: the Redis layer binds its receive buffers
    to the loop that first waits on them.
    """

    def __init__(self) -> None:
        self.layer = get_channel_layer()
        self.loop = asyncio.new_event_loop()
        self.channels: dict[int, str] = {}

    def _run(self, coroutine: Coroutine) -> Any:
        return self.loop.run_until_complete(coroutine)

    def listen(self, *user_ids: int) -> None:
        for user_id in user_ids:
            channel = self._run(self.layer.new_channel())
            self._run(self.layer.group_add(user_group_name(user_id), channel))
            self.channels[user_id] = channel

    def events(self, user_id: int, *, timeout: float = 0.2) -> list[dict[str, Any]]:
        """Every event delivered to ``user_id`` so far, in order."""
        return self._run(self._drain(self.channels[user_id], timeout))

    async def _drain(self, channel: str, timeout: float) -> list[dict[str, Any]]:
        events = []
        while True:
            try:
                message = await asyncio.wait_for(self.layer.receive(channel), timeout)
            except TimeoutError:
                return events
            events.append(json.loads(message["text"]))

    def close(self) -> None:
        for user_id, channel in self.channels.items():
            self._run(self.layer.group_discard(user_group_name(user_id), channel))
        self.loop.close()
