"""Async Redis clients on a pool that makes a caller wait for a connection rather than fail:
redis-py's default pool refuses one beyond 100, which a burst of sockets connecting or closing
reaches (each refusal would lose a presence entry or a push). Make one per event loop
(``imserver.per_loop.PerLoop``)."""

import redis.asyncio as aioredis

# Connections of one client, and how long a caller waits for one.
POOL_SIZE = 50
POOL_WAIT_S = 10


def waiting_client(url: str) -> aioredis.Redis:
    pool = aioredis.BlockingConnectionPool.from_url(
        url, max_connections=POOL_SIZE, timeout=POOL_WAIT_S
    )
    return aioredis.Redis.from_pool(pool)
