"""Read what ``publish_on_commit`` delivered, from the real channel layer."""

import asyncio
import json
from collections.abc import Coroutine
from typing import Any

from channels.layers import get_channel_layer

from imserver.fanout_wire import FANOUT_GROUP
from imserver.publish import user_group_name


class PushRecorder:
    """Subscribes a channel to users' groups, like a connected socket would, and reads events.

    All receiving happens on one private event loop, by one receive per channel that stays
    pending between calls, as a socket's does: the pub/sub layer drops a channel whose receive
    is cancelled, so a receive with a timeout would lose what arrives next.
    """

    def __init__(self) -> None:
        self.layer = get_channel_layer()
        self.loop = asyncio.new_event_loop()
        self.channels: dict[int, str] = {}
        self.inboxes: dict[int, list[dict[str, Any]]] = {}
        self.collectors: list[asyncio.Task] = []
        # Pushes to many users travel once per process (realtime/fanout.py).
        self.fanout_channel = self._run(self.layer.new_channel())
        self._run(self.layer.group_add(FANOUT_GROUP, self.fanout_channel))
        self.fanned_out: list[dict[str, Any]] = []
        self.fanned_out_for: dict[int, list[dict[str, Any]]] = {}
        self._collect(self.fanout_channel, self.fanned_out)

    def _run(self, coroutine: Coroutine) -> Any:
        return self.loop.run_until_complete(coroutine)

    def _collect(self, channel: str, inbox: list[dict[str, Any]]) -> None:
        async def collect() -> None:
            while True:
                inbox.append(await self.layer.receive(channel))

        self.collectors.append(self.loop.create_task(collect()))

    def listen(self, *user_ids: int) -> None:
        for user_id in user_ids:
            channel = self._run(self.layer.new_channel())
            self._run(self.layer.group_add(user_group_name(user_id), channel))
            self.channels[user_id] = channel
            self.inboxes[user_id] = []
            self._collect(channel, self.inboxes[user_id])

    def events(self, user_id: int, *, timeout: float = 0.2) -> list[dict[str, Any]]:
        """Every event delivered to ``user_id`` since the last call, once nothing more has
        arrived for ``timeout``: those sent to the user in order, then those fanned out to many
        users in order."""
        self._run(self._settle(timeout))
        inbox = self.inboxes[user_id]  # the collector appends to this very list
        direct = list(inbox)
        inbox.clear()
        for message in self.fanned_out:
            for recipient in message["user_ids"]:
                if recipient in self.channels:
                    self.fanned_out_for.setdefault(recipient, []).append(message)
        self.fanned_out.clear()
        fanned_out = self.fanned_out_for.pop(user_id, [])
        return [json.loads(message["text"]) for message in [*direct, *fanned_out]]

    async def _settle(self, timeout: float) -> None:
        def received() -> int:
            return len(self.fanned_out) + sum(len(inbox) for inbox in self.inboxes.values())

        while True:
            before = received()
            await asyncio.sleep(timeout)
            if received() == before:
                return

    def close(self) -> None:
        for collector in self.collectors:
            collector.cancel()
        self._run(asyncio.gather(*self.collectors, return_exceptions=True))
        self._run(self.layer.group_discard(FANOUT_GROUP, self.fanout_channel))
        for user_id, channel in self.channels.items():
            self._run(self.layer.group_discard(user_group_name(user_id), channel))
        self.loop.close()
