"""``make bench``: start the server stack, create users through the API, run the scenarios of
issue 9 and write ``docs/benchmarks/<label>.{json,md}`` and ``<label>-latency.svg``.

Settings (environment): ``DATABASE_URL`` / ``REDIS_URL`` (PostgreSQL + Redis, else SQLite and the
in-memory layer), ``BENCH_WORKERS`` (server processes; default 2 with Redis, else 1),
``BENCH_SERVER`` (the ASGI server of ``imserver.serve``: daphne, the default, or uvicorn),
``BENCH_LABEL`` (output name, default ``latest``), ``BENCH_OUT`` (default ``docs/benchmarks``),
``BENCH_SCENARIOS`` (e.g. ``1,2,3``), ``BENCH_IDLE`` (idle sockets, default 10000, opened from
``BENCH_IDLE_PROCESSES`` client processes, default one per 5,000 sockets, each under the
open-files limit; ``BENCH_IDLE_CONCURRENCY`` handshakes at a time in all, for at most
``BENCH_IDLE_TIME_LIMIT_S``), ``BENCH_SERVER_LOG`` (a path: keep the server's log there),
``BENCH_PROFILE=1`` (py-spy profiles of the workers during scenarios 1, 2 and 4;
``BENCH_PROFILE_GIL=1`` samples only the thread holding the GIL). Scenario 6 (search over a
million messages, PostgreSQL only; ``bench/search.py``) is not in the default set:
``BENCH_SCENARIOS=6``, with ``BENCH_SEARCH_MESSAGES``, ``BENCH_SEARCH_REPEAT`` and
``BENCH_SEARCH_TIME_LIMIT_S``; nor is scenario 7 (the request floor, ``bench/floor.py``:
``BENCH_SCENARIOS=7``, ``BENCH_FLOOR_REQUESTS``).
"""

import asyncio
import contextlib
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import floor, profile, report, search
from bench.client import Api, Socket, User, bounded_gather, create_user, keep_alive
from bench.scenarios import (
    Run,
    idle_sockets,
    open_loop,
    rest_sender,
    rest_throughput,
    ws_sender,
    ws_throughput,
)
from bench.stack import ROOT, Stack, raise_fd_limit


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def config_from_env() -> dict:
    redis = bool(os.environ.get("REDIS_URL"))
    return {
        "workers": _int("BENCH_WORKERS", 2 if redis else 1),
        "messages": _int("BENCH_MESSAGES", 2000),
        "senders": _int("BENCH_SENDERS", 8),
        "ws_window": _int("BENCH_WS_WINDOW", 16),
        "rate": _int("BENCH_RATE", 200),
        "rate_messages": _int("BENCH_RATE_MESSAGES", 2000),
        "group_size": _int("BENCH_GROUP_SIZE", 500),
        "group_messages": _int("BENCH_GROUP_MESSAGES", 100),
        "group_rate": _int("BENCH_GROUP_RATE", 50),
        "idle": _int("BENCH_IDLE", 10000),
        "idle_concurrency": _int("BENCH_IDLE_CONCURRENCY", 100),
        "idle_time_limit_s": _int("BENCH_IDLE_TIME_LIMIT_S", 300),
        "idle_processes": _int("BENCH_IDLE_PROCESSES", 0),
        "floor_requests": _int("BENCH_FLOOR_REQUESTS", 2000),
        "search_messages": _int("BENCH_SEARCH_MESSAGES", 1_000_000),
        "search_repeat": _int("BENCH_SEARCH_REPEAT", 50),
        "search_time_limit_s": _int("BENCH_SEARCH_TIME_LIMIT_S", 300),
        "scenarios": os.environ.get("BENCH_SCENARIOS", "1,2,3,4,5"),
        "label": os.environ.get("BENCH_LABEL", "latest"),
        "profile": os.environ.get("BENCH_PROFILE", "") == "1",
        "profile_gil": os.environ.get("BENCH_PROFILE_GIL", "") == "1",
    }


def machine_info(stack: Stack) -> dict:
    cpu = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_gb = None
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = round(int(line.split()[1]) / 2**20, 1)
    info = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": memory_gb,
        "kernel": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "open_files_limit": raise_fd_limit(),
    }
    if stack.postgres:
        with contextlib.suppress(Exception):
            import psycopg

            with psycopg.connect(stack.server_database_url()) as connection:
                version = connection.execute("SHOW server_version").fetchone()[0]
                info["postgres"] = f"PostgreSQL {version}"
    if stack.redis_url:
        with contextlib.suppress(Exception):
            import redis

            info["redis"] = f"Redis {redis.Redis.from_url(stack.redis_url).info()['redis_version']}"
    return info


async def befriend(api: Api, a: User, b: User) -> None:
    request = await api.call("POST", "/friend/request/send", {"to_user_id": b.id}, a.token)
    await api.call(
        "POST",
        "/friend/request/handle",
        {"request_id": request["request_id"], "action": 2},
        b.token,
    )


async def open_sockets(stack: Stack, users: list[User], *, concurrency: int = 50) -> list[Socket]:
    sockets = [Socket(stack.ws_url, user.token) for user in users]
    await bounded_gather(concurrency, [sock.open_and_confirm() for sock in sockets])
    return sockets


async def close_sockets(sockets: list[Socket]) -> None:
    await bounded_gather(200, [sock.close() for sock in sockets])


@contextlib.contextmanager
def cpu_cost(stack: Stack, result_holder: dict, key: str, count_field: str = "messages"):
    """Adds ``cpu_ms_per_message`` (server workers, PostgreSQL, Redis, and this load generator)
    to ``result_holder[key]``: where the machine's two cores went during the scenario."""
    before = stack.cpu_by_component()
    yield
    after = stack.cpu_by_component()
    result = result_holder.get(key)
    if result and result.get(count_field):
        count = result[count_field]
        result["cpu_ms_per_message"] = {
            part: round(1000 * (after[part] - before[part]) / count, 3) for part in after
        }


async def benchmark(stack: Stack, config: dict, out_dir: Path) -> dict:
    def profiled_as(kind: str) -> contextlib.AbstractContextManager:
        name = f"{config['label']}-profile-{kind}"
        return profile.record(stack, out_dir, name, config["profile"], gil=config["profile_gil"])

    wanted = set(config["scenarios"].split(","))
    if not wanted & {"1", "2", "3", "4", "5", "7"}:
        return {}
    api = Api(stack.base_url)
    run = Run()
    results: dict = {}
    live: list[Socket] = []
    pinger = asyncio.create_task(keep_alive(live))
    try:
        count = max(config["group_size"], config["senders"] + 1)
        users = [User(f"b{run.prefix}u{n}") for n in range(count)]
        t = time.perf_counter()
        await bounded_gather(16, [create_user(api, user) for user in users])
        print(f"  {count} users registered in {time.perf_counter() - t:.1f}s", flush=True)
        receiver, senders = users[0], users[1 : config["senders"] + 1]
        for sender in senders:
            await befriend(api, sender, receiver)
        rx = Socket(stack.ws_url, receiver.token)
        await rx.open_and_confirm()
        live.append(rx)
        socket_of = {receiver.id: rx}

        if "1" in wanted:
            print("  1: REST throughput", flush=True)
            with profiled_as("rest"), cpu_cost(stack, results, "1_rest_throughput"):
                results["1_rest_throughput"] = await rest_throughput(
                    api, run, senders, receiver, rx, total=config["messages"]
                )
        if "2" in wanted:
            print("  2: WebSocket throughput", flush=True)
            sender_sockets = await open_sockets(stack, senders)
            live.extend(sender_sockets)
            socket_of.update(zip((s.id for s in senders), sender_sockets, strict=True))
            with profiled_as("ws"), cpu_cost(stack, results, "2_ws_throughput"):
                results["2_ws_throughput"] = await ws_throughput(
                    run,
                    list(zip(senders, sender_sockets, strict=True)),
                    receiver,
                    rx,
                    total=config["messages"],
                    window=config["ws_window"],
                )
        if "3" in wanted:
            print("  3: open-loop latency (REST, then /ws)", flush=True)
            ws_senders = [socket_of.get(s.id) for s in senders]
            if None in ws_senders:
                ws_senders = await open_sockets(stack, senders)
                live.extend(ws_senders)
            for key, send in [
                ("3_open_loop_latency", rest_sender(api, senders)),
                ("3_open_loop_latency_ws", ws_sender(ws_senders)),
            ]:
                with cpu_cost(stack, results, key):
                    results[key] = await open_loop(
                        send,
                        run,
                        len(senders),
                        {"to_user_id": receiver.id, "chat_type": 0},
                        [rx],
                        rate=config["rate"],
                        count=config["rate_messages"],
                    )
        if "4" in wanted:
            print("  4: group fan-out", flush=True)
            owner, members = users[0], users[1 : config["group_size"]]
            group = await api.call(
                "POST", "/group/create", {"group_name": "bench group"}, owner.token
            )
            group_id = group["group_id"]
            await api.call(
                "POST",
                "/group/invite",
                {"group_id": group_id, "user_ids": [m.id for m in members]},
                owner.token,
            )
            missing = [m for m in members if m.id not in socket_of]
            member_sockets = await open_sockets(stack, missing)
            live.extend(member_sockets)
            socket_of.update(zip((m.id for m in missing), member_sockets, strict=True))
            listeners = [socket_of[u.id] for u in [owner, *members]]
            await asyncio.sleep(1)
            with profiled_as("fanout"), cpu_cost(stack, results, "4_group_fan_out"):
                results["4_group_fan_out"] = await open_loop(
                    rest_sender(api, [owner]),
                    run,
                    1,
                    {"group_id": group_id, "chat_type": 1},
                    listeners,
                    rate=config["group_rate"],
                    count=config["group_messages"],
                )
        if "7" in wanted:
            print("  7: the request floor", flush=True)
            results["7_request_floor"] = await floor.request_floor(
                api,
                stack,
                senders[0],
                receiver,
                requests=config["floor_requests"],
                concurrency=config["senders"],
            )
        await close_sockets(live)
        live.clear()
        if "5" in wanted:
            print("  5: idle sockets", flush=True)
            await asyncio.sleep(3)
            idle = await idle_sockets(
                stack.ws_url,
                users,
                target=config["idle"],
                concurrency=config["idle_concurrency"],
                rss=stack.rss_bytes,
                time_limit=config["idle_time_limit_s"],
                processes=config["idle_processes"],
            )
            idle["client_open_files_limit"] = raise_fd_limit()
            results["5_idle_sockets"] = idle
    finally:
        pinger.cancel()
        await close_sockets(live)
        await api.close()
    return results


def main() -> int:
    config = config_from_env()
    out_dir = Path(os.environ.get("BENCH_OUT") or ROOT / "docs" / "benchmarks")
    raise_fd_limit()
    stack = Stack(workers=config["workers"], db_name=os.environ.get("BENCH_DB_NAME", "im_bench"))
    started_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    t = time.perf_counter()
    print(f"bench: starting {stack.describe()}", flush=True)
    stack.start()
    try:
        info = machine_info(stack)
        scenarios = asyncio.run(benchmark(stack, config, out_dir))
        if "6" in config["scenarios"].split(","):
            scenarios.update(asyncio.run(search.scenario(stack, config, out_dir)))
    finally:
        log = stack.stderr_path
        log_tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
        stack.stop()
    if log_tail.strip():
        print(f"server log (tail):\n{log_tail}", file=sys.stderr)
    results = {
        "label": config["label"],
        "started_at": started_at,
        "seconds": time.perf_counter() - t,
        "machine": info,
        "stack": {**stack.describe(), "git": _git_head()},
        "config": config,
        "scenarios": scenarios,
    }
    for path in report.write(results, out_dir):
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    print((out_dir / f"{config['label']}.md").read_text())
    return 0


def _git_head() -> str:
    with contextlib.suppress(Exception):
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    return ""


if __name__ == "__main__":
    sys.exit(main())
