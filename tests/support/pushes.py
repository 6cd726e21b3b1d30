"""Read what ``publish_on_commit`` delivered, from the real channel layer."""

import asyncio
import json
from collections.abc import Coroutine
from typing import Any

from channels.layers import get_channel_layer

from imserver.realtime.fanout import FANOUT_GROUP
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
        # Pushes to many users travel once per process (imserver/realtime/fanout.py).
        self.fanout_channel = self._run(self.layer.new_channel("fanout."))
        self._run(self.layer.group_add(FANOUT_GROUP, self.fanout_channel))
        self.fanned_out: dict[int, list[dict[str, Any]]] = {}

    def _run(self, coroutine: Coroutine) -> Any:
        return self.loop.run_until_complete(coroutine)

    def listen(self, *user_ids: int) -> None:
        for user_id in user_ids:
            channel = self._run(self.layer.new_channel())
            self._run(self.layer.group_add(user_group_name(user_id), channel))
            self.channels[user_id] = channel

    def events(self, user_id: int, *, timeout: float = 0.2) -> list[dict[str, Any]]:
        """Every event delivered to ``user_id`` so far: those sent to the user in order, then
        those fanned out to many users in order."""
        direct = self._run(self._drain(self.channels[user_id], timeout))
        for message in self._run(self._drain(self.fanout_channel, 0.05)):
            for recipient in message["user_ids"]:
                if recipient in self.channels:
                    self.fanned_out.setdefault(recipient, []).append(json.loads(message["text"]))
        return [json.loads(m["text"]) for m in direct] + self.fanned_out.pop(user_id, [])

    async def _drain(self, channel: str, timeout: float) -> list[dict[str, Any]]:
        messages = []
        while True:
            try:
                messages.append(await asyncio.wait_for(self.layer.receive(channel), timeout))
            except TimeoutError:
                return messages

    def close(self) -> None:
        self._run(self.layer.group_discard(FANOUT_GROUP, self.fanout_channel))
        for user_id, channel in self.channels.items():
            self._run(self.layer.group_discard(user_group_name(user_id), channel))
        self.loop.close()
