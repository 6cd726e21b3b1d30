"""A fixed set of threads ("lanes") for the synchronous code of HTTP requests and socket frames.

Django's ASGI handler gives every HTTP request a fresh thread for its synchronous code (one
``ThreadSensitiveContext`` per request), and Django's database connections belong to a thread:
every request would open a new database connection and persistent connections could not be
reused. Channels' ``database_sync_to_async`` goes the other way: every socket frame of the
process runs on one single shared thread.

With this override active, each HTTP request and each socket frame runs its synchronous code on
one of ``IM_SYNC_THREADS`` lanes (a single-thread executor each), the least busy one when it
starts: asgiref's thread-sensitive calls go to the executor of the request's
``ThreadSensitiveContext``, and a socket frame's call goes straight to the lane's executor,
without asgiref's ``SyncToAsync`` machinery. Each lane keeps its own persistent database
connection (``DB_CONN_MAX_AGE``), and at most that many requests and frames touch the database
at the same time in a process. A transaction never spans two synchronous calls, so requests
sharing a lane only wait for one another.

Inactive (no server entry point installed it), :func:`run_sync` is Channels'
``database_sync_to_async`` and HTTP requests get Django's own threads (imserver/asgi.py).
"""

import asyncio
import contextvars
import functools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from asgiref.sync import ThreadSensitiveContext
from django.conf import settings
from django.db import close_old_connections

from imserver import metrics
from imserver.overrides.gate import Calls, Override
from imserver.publish import deferred_pushes

OVERRIDE = Override(
    "lanes",
    written_for={"asgiref": "3.13.0", "channels": "4.3.2"},
    needs=("asgiref.sync:ThreadSensitiveContext", "channels.db:database_sync_to_async"),
    # asgiref hands a thread-sensitive call to the executor of the request's context.
    hooks={"ThreadSensitiveContext(executor)": Calls()},
)
_ASGIREF_CALLS = OVERRIDE.hooks["ThreadSensitiveContext(executor)"]


def _started(queued_at: float, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """On the lane thread: the call leaves the queue (``imserver_lane_queue_depth``, and its
    wait goes to ``imserver_lane_wait_seconds``), then runs."""
    metrics.LANE_WAIT.observe(time.perf_counter() - queued_at)
    metrics.LANE_QUEUE_DEPTH.dec()
    return fn(*args, **kwargs)


def _watched(future: Future[Any]) -> Future[Any]:
    future.add_done_callback(_left_unstarted)
    return future


def _left_unstarted(future: Future[Any]) -> None:
    """A call cancelled before it started (its caller's task was cancelled) leaves the queue
    without running ``_started``."""
    if future.cancelled():
        metrics.LANE_QUEUE_DEPTH.dec()


class LaneExecutor(ThreadPoolExecutor):
    """One thread; ``submit`` is what asgiref calls (run_in_executor), and is counted. Every
    call is measured from its queueing to its start."""

    def __init__(self, index: int) -> None:
        super().__init__(max_workers=1, thread_name_prefix=f"im-lane-{index}")

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        _ASGIREF_CALLS.count += 1
        metrics.LANE_QUEUE_DEPTH.inc()  # before the lane thread can take it
        return _watched(super().submit(_started, time.perf_counter(), fn, *args, **kwargs))

    def run(self, fn: Callable[..., Any], /, *args: Any) -> Future[Any]:
        """Our own calls (:func:`run_sync`): not counted as asgiref's."""
        metrics.LANE_QUEUE_DEPTH.inc()
        return _watched(super().submit(_started, time.perf_counter(), fn, *args))


class Lane:
    def __init__(self, index: int) -> None:
        self.executor = LaneExecutor(index)
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


def _with_usable_connections(
    function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """What Channels' ``database_sync_to_async`` does around a call: drop broken or expired
    database connections before and after."""
    close_old_connections()
    try:
        return function(*args, **kwargs)
    finally:
        close_old_connections()


async def run_sync(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)`` on a lane (Channels' ``database_sync_to_async`` when lanes
    are not active), in a copy of the caller's context variables; the pushes it commits go out
    from the event loop when it returns. (``async_to_sync`` inside it would run on a loop of
    its own, not this one: nothing on this path needs it.)"""
    if not OVERRIDE.active:
        from channels.db import database_sync_to_async

        async with deferred_pushes():
            return await database_sync_to_async(function)(*args, **kwargs)
    with _least_busy_lane() as lane:
        async with deferred_pushes():
            call = contextvars.copy_context().run
            return await asyncio.wrap_future(
                lane.executor.run(call, _with_usable_connections, function, args, kwargs)
            )


Receive = Callable[[], Awaitable[Mapping[str, Any]]]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[dict[str, Any], Receive, Send], Awaitable[None]]


def http_on_lanes(app: ASGIApp) -> ASGIApp:
    """Wrap Django's ASGI application: each HTTP request's synchronous code runs on one lane."""

    async def application(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        async with on_a_lane():
            await app(scope, receive, send)

    return application
