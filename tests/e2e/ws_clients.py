"""Clients of a real server for the /ws end-to-end tests: users over REST, sockets with
``websockets``, and a raw TCP socket that never reads."""

import asyncio
import base64
import json
import os
import re
import socket
import time
from typing import Any

import websockets
from websockets.exceptions import ConnectionClosed

from tests.support.server import ServerProcess

PASSWORD = "secret123"


class User:
    """A registered, logged-in user of ``server``."""

    def __init__(self, server: ServerProcess, username: str) -> None:
        self.server = server
        self.username = username
        body = {"username": username, "password": PASSWORD, "email": f"{username}@e.com"}
        assert server.request("POST", "/register", body)[1]["code"] == 20000
        self.login()
        self.id = self.call("GET", "/user/profile")["id"]

    def login(self) -> dict[str, str]:
        _status, answer = self.server.request(
            "POST", "/login", {"username": self.username, "password": PASSWORD}
        )
        assert answer["code"] == 20000, answer
        self.token = answer["data"]["access_token"]
        self.refresh_token = answer["data"]["refresh_token"]
        return answer["data"]

    def answer(self, method: str, path: str, body: dict | None = None) -> dict[str, Any]:
        return self.server.request(method, path, body, token=self.token)[1]

    def call(self, method: str, path: str, body: dict | None = None) -> Any:
        answer = self.answer(method, path, body)
        assert answer["code"] == 20000, (path, answer)
        return answer.get("data")

    def befriend(self, other: "User") -> None:
        request_id = self.call("POST", "/friend/request/send", {"to_user_id": other.id})[
            "request_id"
        ]
        other.call("POST", "/friend/request/handle", {"request_id": request_id, "action": 2})

    async def socket(self, token: str | None = None) -> "Socket":
        return await Socket.open(self.server, token or self.token)


class Socket:
    """One ``/ws`` connection: JSON frames both ways, and the close code it ended with."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    @classmethod
    async def open(cls, server: ServerProcess, token: str) -> "Socket":
        url = f"ws://127.0.0.1:{server.port}/ws?token={token}"
        return cls(await websockets.connect(url, open_timeout=10, max_size=None))

    async def send(self, frame: Any) -> None:
        await self.connection.send(frame if isinstance(frame, str | bytes) else json.dumps(frame))

    async def next(self, frame_type: str, timeout: float = 5) -> dict[str, Any]:
        """The data of the next frame of ``frame_type``, skipping others."""
        async with asyncio.timeout(timeout):
            while True:
                frame = json.loads(await self.connection.recv())
                if frame["type"] == frame_type:
                    return frame["data"]
                assert frame["type"] != "error", f"waiting for {frame_type}: {frame}"

    async def frames(self, within: float = 0.5) -> list[dict[str, Any]]:
        """Every frame that arrives within ``within`` seconds."""
        frames: list[dict[str, Any]] = []
        try:
            async with asyncio.timeout(within):
                while True:
                    frames.append(json.loads(await self.connection.recv()))
        except TimeoutError:
            pass
        return frames

    async def answer_to(self, frame: Any, frame_type: str = "error") -> dict[str, Any]:
        await self.send(frame)
        return await self.next(frame_type)

    async def alive(self) -> bool:
        """Still open: a ping is answered with a pong."""
        try:
            await self.send({"type": "ping"})
            await self.next("pong", timeout=5)
        except ConnectionClosed:
            return False
        return True

    async def closed_with(self, timeout: float = 10) -> int | None:
        """The close code the server sent, once the connection has ended."""
        async with asyncio.timeout(timeout):
            try:
                while True:
                    await self.connection.recv()
            except ConnectionClosed:
                pass
        return self.connection.close_code

    async def close(self) -> None:
        await self.connection.close()


def open_sockets_reported(server: ServerProcess) -> int | None:
    """The server's own count of open sockets in its last connect or close log line."""
    counts = re.findall(r"sockets in this process: (\d+)", server.output())
    return int(counts[-1]) if counts else None


def wait_for_socket_count(server: ServerProcess, expected: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while open_sockets_reported(server) != expected:
        if time.monotonic() > deadline:
            raise AssertionError(
                f"the server reports {open_sockets_reported(server)} open sockets, not {expected}"
            )
        time.sleep(0.05)


def non_reading_socket(server: ServerProcess, token: str) -> socket.socket:
    """A WebSocket handshake over a plain TCP socket with a small receive buffer, then nothing
    read: everything the server sends piles up on its side."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /ws?token={token} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(1)
    assert response.startswith(b"HTTP/1.1 101"), response
    return sock
