"""The five bounded scenarios of issue 9. Every loop has a fixed count and a time limit."""

import asyncio
import contextlib
import itertools
import math
import multiprocessing
import uuid
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from typing import Any

from bench.client import Api, Socket, User, bounded_gather, keep_alive, now

DRAIN_TIMEOUT_S = 15  # after the last send, how long deliveries may still arrive


def percentiles(values: list[float]) -> dict[str, float | None]:
    """p50/p95/p99/max in milliseconds (nearest-rank) of values in seconds."""
    if not values:
        return {"p50": None, "p95": None, "p99": None, "max": None, "count": 0}
    ordered = sorted(values)

    def rank(p: float) -> float:
        index = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))
        return round(ordered[index] * 1000, 2)

    return {
        "p50": rank(50),
        "p95": rank(95),
        "p99": rank(99),
        "max": round(ordered[-1] * 1000, 2),
        "count": len(ordered),
    }


async def _wait_until(condition, timeout: float) -> None:
    deadline = now() + timeout
    while not condition() and now() < deadline:
        await asyncio.sleep(0.02)


def _text(n: int) -> str:
    return f"benchmark message {n} " + "x" * 40


class Run:
    """Run-wide unique client_msg_ids (a rerun against the same database never collides)."""

    def __init__(self) -> None:
        self.prefix = uuid.uuid4().hex[:8]
        self.counter = itertools.count()

    def cmid(self) -> str:
        return f"{self.prefix}-{next(self.counter)}"


# --- 1. REST throughput --------------------------------------------------------------------------
async def rest_throughput(
    api: Api, run: Run, senders: list[User], receiver: User, rx: Socket, *, total: int
) -> dict[str, Any]:
    sent: dict[str, float] = {}
    received: dict[str, float] = {}
    errors: list[str] = []
    rx.on_message = lambda cmid, at: received.setdefault(cmid, at)
    per_sender = total // len(senders)

    async def send_loop(sender: User) -> None:
        for n in range(per_sender):
            cmid = run.cmid()
            sent[cmid] = now()
            try:
                await api.call(
                    "POST",
                    "/chat/send",
                    {
                        "to_user_id": receiver.id,
                        "chat_type": 0,
                        "type": 0,
                        "content": _text(n),
                        "client_msg_id": cmid,
                    },
                    sender.token,
                )
            except Exception as exc:
                errors.append(str(exc)[:200])
                sent.pop(cmid, None)

    started = now()
    await asyncio.wait_for(asyncio.gather(*(send_loop(s) for s in senders)), 600)
    finished = now()
    await _wait_until(lambda: all(c in received for c in sent), DRAIN_TIMEOUT_S)
    latencies = [received[c] - t for c, t in sent.items() if c in received]
    return {
        "messages": len(sent),
        "senders": len(senders),
        "seconds": round(finished - started, 3),
        "msg_per_s": round(len(sent) / (finished - started), 1),
        "latency_ms": percentiles(latencies),
        "lost": sum(1 for c in sent if c not in received),
        "errors": len(errors),
        "error_sample": errors[:3],
        "_latencies": latencies,
    }


# --- 2. WebSocket throughput ---------------------------------------------------------------------
async def ws_throughput(
    run: Run,
    senders: list[tuple[User, Socket]],
    receiver: User,
    rx: Socket,
    *,
    total: int,
    window: int,
) -> dict[str, Any]:
    sent: dict[str, float] = {}
    acked: dict[str, float] = {}
    received: dict[str, float] = {}
    errors: list[str] = []
    rx.on_message = lambda cmid, at: received.setdefault(cmid, at)
    per_sender = total // len(senders)

    async def send_loop(sock: Socket) -> None:
        slots = asyncio.Semaphore(window)

        def on_ack(frame: dict, at: float) -> None:
            data = frame["data"]
            if frame["type"] == "error":
                errors.append(str(data)[:200])
            acked.setdefault(data.get("client_msg_id"), at)
            slots.release()

        sock.on_ack = on_ack
        sock.on_message = None  # the sender's own copy of each message
        for n in range(per_sender):
            await slots.acquire()
            cmid = run.cmid()
            sent[cmid] = now()
            await sock.send(
                {
                    "type": "message",
                    "data": {
                        "to_user_id": receiver.id,
                        "chat_type": 0,
                        "type": 0,
                        "content": _text(n),
                        "client_msg_id": cmid,
                    },
                }
            )
        for _ in range(window):  # every answer is in
            await slots.acquire()

    started = now()
    await asyncio.wait_for(asyncio.gather(*(send_loop(sock) for _, sock in senders)), 600)
    finished = now()
    await _wait_until(lambda: all(c in received for c in sent), DRAIN_TIMEOUT_S)
    latencies = [received[c] - t for c, t in sent.items() if c in received]
    ack_latencies = [acked[c] - t for c, t in sent.items() if c in acked]
    return {
        "messages": len(sent),
        "senders": len(senders),
        "window_per_sender": window,
        "seconds": round(finished - started, 3),
        "msg_per_s": round(len(acked) / (finished - started), 1),
        "latency_ms": percentiles(latencies),
        "ack_latency_ms": percentiles(ack_latencies),
        "lost": sum(1 for c in sent if c not in received),
        "errors": len(errors),
        "error_sample": errors[:3],
        "_latencies": latencies,
    }


# --- 3. Latency at a fixed offered load (open loop) -------------------------------------------
SendOne = Callable[[int, dict[str, Any]], Awaitable[None]]  # (sender index, message body)


def rest_sender(api: Api, senders: list[User]) -> SendOne:
    async def send(index: int, body: dict[str, Any]) -> None:
        await api.call("POST", "/chat/send", body, senders[index].token)

    return send


def ws_sender(sockets: list[Socket]) -> SendOne:
    """Sends a ``message`` frame and waits for its ``ack`` (an ``error`` frame raises)."""
    waiting: dict[str, asyncio.Future] = {}

    def on_ack(frame: dict, _at: float) -> None:
        future = waiting.pop(frame["data"].get("client_msg_id"), None)
        if future is not None and not future.done():
            if frame["type"] == "error":
                future.set_exception(RuntimeError(str(frame["data"])))
            else:
                future.set_result(None)

    for sock in sockets:
        sock.on_ack = on_ack

    async def send(index: int, body: dict[str, Any]) -> None:
        answered = waiting[body["client_msg_id"]] = asyncio.get_running_loop().create_future()
        await sockets[index].send({"type": "message", "data": body})
        await asyncio.wait_for(answered, 60)

    return send


async def open_loop(
    send: SendOne,
    run: Run,
    senders: int,
    target: dict[str, Any],
    listeners: list[Socket],
    *,
    rate: float,
    count: int,
) -> dict[str, Any]:
    """``count`` sends at ``rate``/s, each at its scheduled time whether or not earlier ones are
    done, round-robin over ``senders`` (indexes for ``send``); latency is measured from the
    scheduled time (no coordinated omission). A message counts as delivered when every listener
    has it."""
    scheduled: dict[str, float] = {}
    arrivals: dict[str, list[float]] = {}
    errors: list[str] = []
    need = len(listeners)

    def record(cmid: str, at: float) -> None:
        if cmid in scheduled:
            arrivals.setdefault(cmid, []).append(at)

    for sock in listeners:
        sock.on_message = record

    async def one(n: int, sender: int, at: float) -> None:
        cmid = run.cmid()
        scheduled[cmid] = at
        try:
            await send(sender, {**target, "type": 0, "content": _text(n), "client_msg_id": cmid})
        except Exception as exc:
            errors.append(str(exc)[:200])
            scheduled.pop(cmid, None)

    started = now()
    tasks = []
    for n in range(count):
        at = started + n / rate
        delay = at - now()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(n, n % senders, at)))
    await asyncio.wait_for(asyncio.gather(*tasks), 600)
    await _wait_until(
        lambda: all(len(arrivals.get(c, ())) >= need for c in scheduled), DRAIN_TIMEOUT_S
    )
    complete = [
        max(arrivals[c]) - t for c, t in scheduled.items() if len(arrivals.get(c, ())) >= need
    ]
    every_delivery = [at - scheduled[c] for c, ats in arrivals.items() for at in ats]
    return {
        "offered_per_s": rate,
        "messages": count,
        "recipients_per_message": need,
        "seconds": round(now() - started, 3),
        "latency_ms": percentiles(complete),
        "delivery_latency_ms": percentiles(every_delivery),
        "deliveries": len(every_delivery),
        "lost_deliveries": len(scheduled) * need - len(every_delivery),
        "errors": len(errors),
        "error_sample": errors[:3],
        "_latencies": complete,
    }


# --- 5. Idle sockets -----------------------------------------------------------------------------
# How long after its share is open a client process waits for the parent's word to close it.
HOLD_LIMIT_S = 300


def idle_processes(target: int, processes: int) -> int:
    """Client processes for ``target`` sockets: ``processes`` if set, else one per 5,000 (each
    process holds its share of sockets as open files, under the open-files limit)."""
    return max(1, processes or math.ceil(target / 5000))


async def idle_sockets(
    url: str,
    users: list[User],
    *,
    target: int,
    concurrency: int,
    rss: Callable[[], int],
    time_limit: float,
    processes: int = 0,
) -> dict[str, Any]:
    """Open up to ``target`` authenticated sockets (a ``ping`` answered by ``pong`` each),
    round-robin over ``users``, from ``processes`` client processes that each open an equal
    share (``concurrency`` handshakes at a time in all) and stop at their first wave of which
    most failed; the
    server's RSS is read once all are open (and pinged, as clients do, so none idles out), then
    every socket is closed."""
    count = idle_processes(target, processes)
    tokens = [user.token for user in users]
    shares = [target // count + (1 if n < target % count else 0) for n in range(count)]
    each = max(1, math.ceil(concurrency / count))
    context = multiprocessing.get_context("spawn")
    rss_before = rss()
    children = []
    first = 0
    for share in shares:
        parent_end, child_end = context.Pipe()
        child = context.Process(
            target=hold_share,
            args=(url, tokens, first, share, each, time_limit, child_end),
            daemon=True,
        )
        child.start()
        child_end.close()
        children.append((child, parent_end))
        first += share
    try:
        reports = await asyncio.gather(
            *(_report_of(end, time_limit + 60) for _child, end in children)
        )
        await asyncio.sleep(5)  # let the server settle
        rss_after = rss()
    finally:
        for _child, end in children:
            with contextlib.suppress(OSError):
                end.send("close")
        await asyncio.to_thread(_join_all, [child for child, _end in children])
    connected = sum(r["connected"] for r in reports)
    failures = [f for r in reports for f in r["failure_sample"]]
    connect_times = [t for r in reports for t in r["connect_times"]]
    connected_in = max(r["connect_seconds"] for r in reports)
    return {
        "target": target,
        "connected": connected,
        "failures": sum(r["failures"] for r in reports),
        "failure_sample": failures[:3],
        "client_processes": count,
        "connect_seconds": round(connected_in, 2),
        "connects_per_s": round(connected / connected_in, 1) if connected_in else None,
        "connect_latency_ms": percentiles(connect_times),
        "server_rss_before_mb": round(rss_before / 2**20, 1),
        "server_rss_after_mb": round(rss_after / 2**20, 1),
        "rss_per_connection_kb": round((rss_after - rss_before) / connected / 1024, 1)
        if connected
        else None,
    }


async def _report_of(end: Connection, timeout: float) -> dict[str, Any]:
    """A client process's report, or an empty one when it died or went silent."""

    def receive() -> dict[str, Any]:
        try:
            if end.poll(timeout):
                return end.recv()
        except (EOFError, OSError):
            pass
        return {
            "connected": 0,
            "failures": 1,
            "failure_sample": ["client process gave no report"],
            "connect_times": [],
            "connect_seconds": 0.0,
        }

    return await asyncio.to_thread(receive)


def _join_all(children: list) -> None:
    for child in children:
        child.join(30)
        if child.is_alive():
            child.kill()
            child.join(5)


def hold_share(*args: Any) -> None:
    """A client process of scenario 5 (the arguments of ``_hold_share``): sockets ``first``..
    ``first + share - 1``."""
    asyncio.run(_hold_share(*args))


async def _hold_share(
    url: str,
    tokens: list[str],
    first: int,
    share: int,
    concurrency: int,
    time_limit: float,
    end: Connection,
) -> None:
    opened: list[Socket] = []
    connect_times: list[float] = []
    failures: list[str] = []
    started = now()
    deadline = started + time_limit
    pinger = asyncio.create_task(keep_alive(opened))

    async def open_one(index: int) -> None:
        sock = Socket(url, tokens[index % len(tokens)])
        begun = now()
        try:
            await sock.open_and_confirm(timeout=30)
        except Exception as exc:
            failures.append(f"{type(exc).__name__}: {exc}"[:200])
            await sock.close()
            return
        connect_times.append(now() - begun)
        opened.append(sock)

    try:
        index, stop = first, first + share
        while index < stop and now() < deadline:
            wave = min(concurrency * 5, stop - index)
            failed_before = len(failures)
            await bounded_gather(concurrency, [open_one(i) for i in range(index, index + wave)])
            index += wave
            if 2 * (len(failures) - failed_before) > wave:
                break  # most of a wave failed: the server (or this client) is out of something
        end.send(
            {
                "connected": len(opened),
                "failures": len(failures),
                "failure_sample": failures[:3],
                "connect_times": connect_times,
                "connect_seconds": now() - started,
            }
        )
        await asyncio.to_thread(end.poll, HOLD_LIMIT_S)
    finally:
        pinger.cancel()
        await bounded_gather(200, [sock.close() for sock in opened])
