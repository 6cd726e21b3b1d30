"""Async Redis clients, one per event loop (tests run several loops in one process), each on a
pool that makes a caller wait for a connection rather than fail: redis-py's default pool refuses
one beyond 100, which a burst of sockets connecting or closing reaches (each refusal would lose
a presence entry or a push)."""

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

import redis.asyncio as aioredis

# Connections of one event loop's client, and how long a caller waits for one.
POOL_SIZE = 50
POOL_WAIT_S = 10

T = TypeVar("T")


class PerLoop(Generic[T]):
    """``made(client)`` for the running event loop, made once per loop on a client of
    ``url()``; the entries of closed loops are dropped."""

    def __init__(self, url: Callable[[], str], made: Callable[[aioredis.Redis], T]) -> None:
        self.url = url
        self.made = made
        self.by_loop: dict[asyncio.AbstractEventLoop, T] = {}

    def get(self) -> T:
        loop = asyncio.get_running_loop()
        value = self.by_loop.get(loop)
        if value is None:
            for stale in [other for other in self.by_loop if other.is_closed()]:
                del self.by_loop[stale]
            pool = aioredis.BlockingConnectionPool.from_url(
                self.url(), max_connections=POOL_SIZE, timeout=POOL_WAIT_S
            )
            value = self.by_loop[loop] = self.made(aioredis.Redis.from_pool(pool))
        return value
