"""Scenario 7, the request floor: what one request costs the server on this machine when it does
almost nothing, against what a send costs.

``GET /healthz`` (Django without DRF, no authentication, no query), ``GET /user/profile`` (the
cheapest authenticated DRF endpoint: the token checked, the user read, a small object rendered)
and ``POST /chat/send``, each ``BENCH_FLOOR_REQUESTS`` times from ``BENCH_SENDERS`` concurrent
clients after a warm-up, with the CPU each component used per request. Not in the default set
(``BENCH_SCENARIOS=7``): it bounds what scenario 1 can reach, since a REST send cannot cost the
server less than the authenticated request around it.
"""

import asyncio
import time
from typing import Any

from bench.client import Api, User

WARM_UP = 50


async def request_floor(
    api: Api, stack: Any, sender: User, receiver: User, *, requests: int, concurrency: int
) -> dict[str, Any]:
    counter = iter(range(10**9))

    def send_body() -> dict[str, Any]:
        n = next(counter)
        return {
            "to_user_id": receiver.id,
            "chat_type": 0,
            "type": 0,
            "content": f"floor {n}",
            "client_msg_id": f"floor-{n}",
        }

    endpoints = {
        "healthz": ("GET", "/healthz", lambda: None, None),
        "user_profile": ("GET", "/user/profile", lambda: None, sender.token),
        "chat_send": ("POST", "/chat/send", send_body, sender.token),
    }
    results: dict[str, Any] = {}
    for name, (method, path, body, token) in endpoints.items():
        for _ in range(WARM_UP):
            await api.call(method, path, body(), token)
        per_client = requests // concurrency
        before = stack.cpu_by_component()
        started = time.perf_counter()
        await asyncio.gather(
            *(_client(api, method, path, body, token, per_client) for _ in range(concurrency))
        )
        seconds = time.perf_counter() - started
        after = stack.cpu_by_component()
        count = per_client * concurrency
        results[name] = {
            "requests": count,
            "per_s": round(count / seconds, 1),
            "cpu_ms_per_request": {
                part: round(1000 * (after[part] - before[part]) / count, 3) for part in after
            },
        }
    return results


async def _client(
    api: Api, method: str, path: str, body: Any, token: str | None, count: int
) -> None:
    for _ in range(count):
        await api.call(method, path, body(), token)
