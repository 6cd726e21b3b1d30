"""A fixed set of threads ("lanes") for the synchronous code of HTTP requests and socket frames.

Django's ASGI handler gives every HTTP request a fresh thread for its synchronous code (one
``ThreadSensitiveContext`` per request), and Django's database connections belong to a thread:
every request opened a new database connection (about 10 ms with PostgreSQL on the benchmark
machine) and persistent connections could not be reused. Channels' ``database_sync_to_async``
goes the other way: every socket frame of the process ran on one single shared thread.

Here each HTTP request and each socket frame runs its synchronous code on one of
``IM_SYNC_THREADS`` lanes (a single-thread executor each), the least busy one when it starts.
Each lane keeps its own persistent database connection (``DB_CONN_MAX_AGE``), and at most that
many requests and frames touch the database at the same time in a process. A transaction never
spans two synchronous calls, so requests sharing a lane only wait for one another.
"""

import functools
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from asgiref.sync import ThreadSensitiveContext
from channels.db import database_sync_to_async
from django.conf import settings

from imserver.realtime.publish import deferred_pushes


class Lane:
    def __init__(self, index: int) -> None:
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"im-lane-{index}")
        self.in_flight = 0


@functools.cache
def _lanes(count: int) -> tuple[Lane, ...]:
    return tuple(Lane(index) for index in range(max(1, count)))


def lanes() -> tuple[Lane, ...]:
    return _lanes(settings.IM_SYNC_THREADS)


@asynccontextmanager
async def on_a_lane() -> AsyncIterator[Lane]:
    """Thread-sensitive synchronous calls inside this block run on the least busy lane."""
    lane = min(lanes(), key=lambda candidate: candidate.in_flight)
    lane.in_flight += 1
    try:
        async with ThreadSensitiveContext(executor=lane.executor):
            yield lane
    finally:
        lane.in_flight -= 1


async def run_sync(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``database_sync_to_async(function)(...)`` on a lane (old connections are closed first);
    the pushes it commits go out from the event loop when it returns."""
    async with on_a_lane(), deferred_pushes():
        return await database_sync_to_async(function)(*args, **kwargs)


def http_on_lanes(app: Callable) -> Callable:
    """Wrap Django's ASGI application: each HTTP request's synchronous code runs on one lane."""

    async def application(scope: dict, receive: Callable, send: Callable) -> None:
        async with on_a_lane():
            await app(scope, receive, send)

    return application
