"""A socket for the registry of ``realtime.fanout`` whose writes wait until released: it holds
the loop's listener in one push, so what arrives meanwhile waits in the listener's channel."""

import asyncio

from imserver.publish import push_now
from realtime.fanout import LocalSockets


class StuckSocket:
    presence_id = "stuck"
    in_presence = False

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def push_text(self, text: str) -> None:
        self.entered.set()
        await self.release.wait()

    async def session_revoke(self, message: dict) -> None:
        pass


async def hold_listener(registry: LocalSockets, user_id: int) -> StuckSocket:
    """A ``StuckSocket`` of ``user_id`` in ``registry``, pushed to: when this returns, the
    listener waits in that write until ``release`` is set."""
    stuck = StuckSocket()
    await registry.add(user_id, stuck)
    await push_now([user_id], "held", {})
    await asyncio.wait_for(stuck.entered.wait(), 5)
    return stuck
