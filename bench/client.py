"""The load generator's pieces: an API client (aiohttp) and WebSocket clients (websockets)."""

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

import aiohttp
from websockets.asyncio.client import ClientConnection, connect

now = time.perf_counter


class ApiError(RuntimeError):
    pass


class Api:
    def __init__(self, base_url: str, *, connections: int = 256) -> None:
        self.base_url = base_url
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=connections, limit_per_host=connections),
            timeout=aiohttp.ClientTimeout(total=60),
        )

    async def call(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.session.request(
            method, self.base_url + path, json=body, headers=headers
        ) as response:
            payload = await response.json(content_type=None)
        if payload.get("code") != 20000:
            raise ApiError(f"{method} {path}: {payload}")
        return payload["data"]

    async def close(self) -> None:
        await self.session.close()


class User:
    def __init__(self, username: str) -> None:
        self.username = username
        self.password = "bench-password"
        self.id = 0
        self.token = ""


async def create_user(api: Api, user: User) -> User:
    await api.call(
        "POST",
        "/register",
        {
            "username": user.username,
            "password": user.password,
            "email": f"{user.username}@bench.example",
            "nickname": user.username,
        },
    )
    tokens = await api.call(
        "POST", "/login", {"username": user.username, "password": user.password}
    )
    user.token = tokens["access_token"]
    user.id = (await api.call("GET", "/user/profile", token=user.token))["id"]
    return user


async def bounded_gather(limit: int, coroutines: list) -> list:
    semaphore = asyncio.Semaphore(limit)

    async def run(coroutine):
        async with semaphore:
            return await coroutine

    return await asyncio.gather(*(run(c) for c in coroutines))


class Socket:
    """One ``/ws`` connection. Every ``message`` frame's arrival time is handed to ``on_message``
    with its ``client_msg_id``; ``ack``/``error`` frames to ``on_ack``."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.token = token
        self.connection: ClientConnection | None = None
        self.on_message: Callable[[str, float], None] | None = None
        self.on_ack: Callable[[dict, float], None] | None = None
        self.pong = asyncio.Event()
        self.other_frames = 0
        self._reader: asyncio.Task | None = None

    async def open(self, *, timeout: float = 30) -> None:
        self.connection = await connect(
            self.url,
            additional_headers={"Authorization": f"Bearer {self.token}"},
            compression=None,
            proxy=None,
            open_timeout=timeout,
            ping_interval=None,
            max_queue=None,
        )
        self._reader = asyncio.create_task(self._read())

    async def open_and_confirm(self, *, timeout: float = 30) -> None:
        """Connected and authenticated: a ``ping`` frame got its ``pong``."""
        await self.open(timeout=timeout)
        await self.ping(timeout=timeout)

    async def ping(self, *, timeout: float = 30) -> None:
        self.pong.clear()
        await self.send({"type": "ping"})
        await asyncio.wait_for(self.pong.wait(), timeout)

    async def send(self, frame: dict) -> None:
        await self.connection.send(json.dumps(frame))

    async def _read(self) -> None:
        try:
            async for raw in self.connection:
                arrived = now()
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "message":
                    if self.on_message is not None:
                        self.on_message(frame["data"].get("client_msg_id"), arrived)
                elif kind in ("ack", "error"):
                    if self.on_ack is not None:
                        self.on_ack(frame, arrived)
                elif kind == "pong":
                    self.pong.set()
                else:
                    self.other_frames += 1
        except Exception:  # the connection closed; whoever waits times out and reports it
            return

    async def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.connection.close(), 10)
        if self._reader is not None:
            self._reader.cancel()


async def keep_alive(sockets: list[Socket], *, every: float = 25) -> None:
    """Application-level pings, as real clients send them, so no socket hits the idle limit."""
    while True:
        await asyncio.sleep(every)
        for socket in list(sockets):
            if socket.connection is not None:
                with contextlib.suppress(Exception):
                    await socket.send({"type": "ping"})
