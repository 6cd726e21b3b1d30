"""A socket for the registry of ``realtime.fanout`` whose writes wait until released: it holds
the loop's listener in one push, so what arrives meanwhile waits in the listener's channel."""

import asyncio


class StuckSocket:
    presence_id = "stuck"

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def push_text(self, text: str) -> None:
        self.entered.set()
        await self.release.wait()

    async def session_revoke(self, message: dict) -> None:
        pass
