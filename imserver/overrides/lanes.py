"""A fixed set of threads ("lanes") for the synchronous code of HTTP requests and socket frames.

Django's ASGI handler gives every HTTP request a fresh thread for its synchronous code (one
``ThreadSensitiveContext`` per request), and Django's database connections belong to a thread:
every request opened a new database connection (about 10 ms with PostgreSQL on the benchmark
machine) and persistent connections could not be reused. Channels' ``database_sync_to_async``
goes the other way: every socket frame of the process ran on one single shared thread.

Here each HTTP request and each socket frame runs its synchronous code on one of
``IM_SYNC_THREADS`` lanes (a single-thread executor each), the least busy one when it starts.
A socket frame's call goes straight to the lane's executor: asgiref's ``SyncToAsync`` machinery
(thread-sensitive contexts, context copied back) cost more CPU than the hand-off itself.
Each lane keeps its own persistent database connection (``DB_CONN_MAX_AGE``), and at most that
many requests and frames touch the database at the same time in a process. A transaction never
spans two synchronous calls, so requests sharing a lane only wait for one another.
"""

import asyncio
import contextvars
import functools
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from asgiref.sync import ThreadSensitiveContext
from django.conf import settings
from django.db import close_old_connections

from imserver.publish import deferred_pushes


class Lane:
    def __init__(self, index: int) -> None:
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"im-lane-{index}")
        self.in_flight = 0


@functools.cache
def _lanes(count: int) -> tuple[Lane, ...]:
    return tuple(Lane(index) for index in range(max(1, count)))


def lanes() -> tuple[Lane, ...]:
    return _lanes(settings.IM_SYNC_THREADS)


@contextmanager
def _least_busy_lane() -> Iterator[Lane]:
    lane = min(lanes(), key=lambda candidate: candidate.in_flight)
    lane.in_flight += 1
    try:
        yield lane
    finally:
        lane.in_flight -= 1


@asynccontextmanager
async def on_a_lane() -> AsyncIterator[Lane]:
    """Thread-sensitive synchronous calls inside this block run on the least busy lane."""
    with _least_busy_lane() as lane:
        async with ThreadSensitiveContext(executor=lane.executor):
            yield lane


def _with_usable_connections(function: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    """What Channels' ``database_sync_to_async`` does around a call: drop broken or expired
    database connections before and after."""
    close_old_connections()
    try:
        return function(*args, **kwargs)
    finally:
        close_old_connections()


async def run_sync(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)`` on a lane, in a copy of the caller's context variables;
    the pushes it commits go out from the event loop when it returns. (``async_to_sync`` inside
    it would run on a loop of its own, not this one: nothing on this path needs it.)"""
    with _least_busy_lane() as lane:
        async with deferred_pushes():
            call = contextvars.copy_context().run
            return await asyncio.get_running_loop().run_in_executor(
                lane.executor, call, _with_usable_connections, function, args, kwargs
            )


def http_on_lanes(app: Callable) -> Callable:
    """Wrap Django's ASGI application: each HTTP request's synchronous code runs on one lane."""

    async def application(scope: dict, receive: Callable, send: Callable) -> None:
        async with on_a_lane():
            await app(scope, receive, send)

    return application
