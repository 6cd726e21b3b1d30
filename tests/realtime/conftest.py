"""Consumer tests drive the full ASGI application through Channels' WebsocketCommunicator."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest_asyncio
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from accounts.models import User
from accounts.tokens import token_pair_for_user
from imserver.asgi import application
from tests.support.presence import forget_presence


class Socket:
    """A connected client: JSON frames in and out."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.communicator = communicator

    async def send(self, frame: Any) -> None:
        await self.communicator.send_to(text_data=json.dumps(frame))

    async def receive(self, timeout: float = 2) -> dict[str, Any]:
        return json.loads(await self.communicator.receive_from(timeout=timeout))

    async def receive_type(self, frame_type: str, timeout: float = 2) -> dict[str, Any]:
        """The next frame of ``frame_type``, skipping others (e.g. presence)."""
        while True:
            frame = await self.receive(timeout)
            if frame["type"] == frame_type:
                return frame["data"]

    async def drain(self, timeout: float = 0.2) -> list[dict[str, Any]]:
        """Every frame that arrives within ``timeout`` of the previous one."""
        frames = []
        while not await self.communicator.receive_nothing(timeout=timeout):
            frames.append(await self.receive())
        return frames

    async def nothing(self, timeout: float = 0.2) -> bool:
        return await self.communicator.receive_nothing(timeout=timeout)

    async def closed_with(self, timeout: float = 2) -> int:
        output = await self.communicator.receive_output(timeout=timeout)
        while output["type"] != "websocket.close":
            output = await self.communicator.receive_output(timeout=timeout)
        return output.get("code", 1000)

    async def close(self) -> None:
        await self.communicator.disconnect()


def access_token(user: User) -> str:
    return token_pair_for_user(user)["access_token"]


@pytest_asyncio.fixture
async def open_socket() -> AsyncIterator[Callable[..., Any]]:
    """``connect(user, ...)``: a socket through the whole ASGI application. Every socket still
    open is closed in the test's own event loop when the test ends (the consumer leaves its
    groups and the loop's fan-out listener stops, each bounded in time), so closing the loop
    has nothing left to cancel."""
    opened: list[WebsocketCommunicator] = []

    async def connect(
        user: User | None = None,
        *,
        token: str | None = None,
        via: str = "header",
        headers: list[tuple[bytes, bytes]] | None = None,
        path: str = "/ws",
    ) -> tuple[bool, Socket]:
        if user is not None and token is None:
            token = await database_sync_to_async(access_token)(user)
        all_headers = list(headers or [])
        if token and via == "header":
            all_headers.append((b"authorization", f"Bearer {token}".encode()))
        elif token:
            path = f"{path}?token={token}"
        communicator = WebsocketCommunicator(application, path, headers=all_headers)
        opened.append(communicator)
        connected, _subprotocol = await communicator.connect(timeout=5)
        return connected, Socket(communicator)

    yield connect
    for communicator in opened:
        # A test may have cancelled a consumer's task (as a server's shutdown does).
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await communicator.disconnect(timeout=2)
    forget_presence()
