"""Who is online: every reader of ``online_status`` goes through ``online_user_ids``.

A user is online while they hold at least one WebSocket connection on any server process.
Each connection is an entry with an expiry time, refreshed by its process (``keep_fresh``, all
of a process's sockets at once), so a crashed process cannot leave its users online for longer
than ``IM_PRESENCE_TTL_S``.

- With ``REDIS_URL``: one sorted set per user (``im:presence:<user_id>``, member = connection,
  score = expiry), shared by every process.
- Without: a dictionary in this process (the in-memory channel layer serves one process too).

``connect`` reports how many live connections the user has with the new one (1 is the 0->1 edge,
on which friends get a ``presence`` push; more than ``IM_WS_MAX_CONNECTIONS_PER_USER`` refuses
the new one), ``disconnect`` the 1->0 edge.
"""

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterable
from functools import cache

import redis
import redis.asyncio as aioredis
from django.conf import settings

from imserver.per_loop import PerLoop
from imserver.redis_clients import waiting_client

logger = logging.getLogger("realtime")

ONLINE = 1
OFFLINE = 0
# Connections refreshed in one pipeline.
REFRESH_CHUNK = 500


def _ttl() -> float:
    return float(settings.IM_PRESENCE_TTL_S)


def _key(user_id: int) -> str:
    return f"im:presence:{user_id}"


class MemoryPresence:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connections: dict[int, dict[str, float]] = {}

    def _live(self, user_id: int, now: float) -> dict[str, float]:
        entries = self._connections.setdefault(user_id, {})
        for connection_id in [c for c, expires in entries.items() if expires <= now]:
            del entries[connection_id]
        return entries

    async def connect(self, user_id: int, connection_id: str) -> int:
        now = time.time()
        with self._lock:
            entries = self._live(user_id, now)
            entries[connection_id] = now + _ttl()
            return len(entries)

    async def refresh(self, entries: list[tuple[int, str]]) -> None:
        for user_id, connection_id in entries:
            await self.connect(user_id, connection_id)

    async def disconnect(self, user_id: int, connection_id: str) -> bool:
        with self._lock:
            entries = self._live(user_id, time.time())
            if entries.pop(connection_id, None) is None:
                return False
            return not entries

    def online_user_ids(self, user_ids: list[int]) -> set[int]:
        now = time.time()
        with self._lock:
            return {user_id for user_id in user_ids if self._live(user_id, now)}


class RedisPresence:
    def __init__(self, url: str) -> None:
        self.url = url
        self._sync = redis.Redis.from_url(url)
        self._clients = PerLoop(lambda: waiting_client(url))

    def _client(self) -> aioredis.Redis:
        return self._clients.get()

    async def connect(self, user_id: int, connection_id: str) -> int:
        now = time.time()
        async with self._client().pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(_key(user_id), "-inf", now)
            pipe.zadd(_key(user_id), {connection_id: now + _ttl()})
            pipe.zcard(_key(user_id))
            pipe.expire(_key(user_id), int(_ttl()) + 1)
            _removed, _added, count, _ = await pipe.execute()
        return int(count)

    async def refresh(self, entries: list[tuple[int, str]]) -> None:
        for start in range(0, len(entries), REFRESH_CHUNK):
            expires = time.time() + _ttl()
            async with self._client().pipeline(transaction=False) as pipe:
                for user_id, connection_id in entries[start : start + REFRESH_CHUNK]:
                    pipe.zadd(_key(user_id), {connection_id: expires})
                    pipe.expire(_key(user_id), int(_ttl()) + 1)
                await pipe.execute()

    async def disconnect(self, user_id: int, connection_id: str) -> bool:
        async with self._client().pipeline(transaction=True) as pipe:
            pipe.zrem(_key(user_id), connection_id)
            pipe.zremrangebyscore(_key(user_id), "-inf", time.time())
            pipe.zcard(_key(user_id))
            removed, _expired, count = await pipe.execute()
        return bool(removed) and count == 0

    def online_user_ids(self, user_ids: list[int]) -> set[int]:
        now = time.time()
        with self._sync.pipeline(transaction=False) as pipe:
            for user_id in user_ids:
                pipe.zcount(_key(user_id), now, "+inf")
            counts = pipe.execute()
        return {user_id for user_id, count in zip(user_ids, counts, strict=True) if count}


@cache
def store_for(redis_url: str) -> MemoryPresence | RedisPresence:
    """One store per process for each ``REDIS_URL`` ("": in memory)."""
    return RedisPresence(redis_url) if redis_url else MemoryPresence()


def presence_store() -> MemoryPresence | RedisPresence:
    return store_for(settings.REDIS_URL)


def online_user_ids(user_ids: Iterable[int]) -> set[int]:
    ids = list(dict.fromkeys(user_ids))
    if not ids:
        return set()
    return presence_store().online_user_ids(ids)


async def keep_fresh(entries: Callable[[], list[tuple[int, str]]]) -> None:
    """Every ``IM_PRESENCE_TTL_S / 3``, the entries of one event loop's sockets (``entries()``:
    user and connection) refreshed together, a few pipelines for all of them. Runs while the
    loop has sockets; a failed round is logged and the next one tries again."""
    while True:
        await asyncio.sleep(_ttl() / 3)
        current = entries()
        if not current:
            continue
        try:
            await presence_store().refresh(current)
        except Exception:
            logger.exception("refreshing the presence of %d sockets failed", len(current))
