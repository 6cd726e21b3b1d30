"""Scenario 6 (issue 23, CONTRACT 11): ``GET /chat/search`` over a million messages.

Loads the data of ``bench.search_data`` straight into the stack's PostgreSQL database, logs in
as a user with a typical number of conversations (the median) and times each case, first in
all of that user's conversations and then in its busiest conversation, through the running
server: one request at a time, the cases interleaved, ``BENCH_SEARCH_REPEAT`` rounds (default
50) after two untimed ones, within ``BENCH_SEARCH_TIME_LIMIT_S``. Then writes the page query's
``EXPLAIN (ANALYZE, BUFFERS)`` for every case to ``search-plans.md`` (``bench.search_plans``).
PostgreSQL only: the targets and the loader are PostgreSQL's.
"""

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench import search_data
from bench.client import Api, now
from bench.scenarios import percentiles
from bench.stack import ROOT, Stack

WARM_UP_ROUNDS = 2


def _typical_user(dataset: search_data.Dataset) -> int:
    """The user index with the median number of conversations, and among those the median
    number of messages in them."""
    by_count = sorted(range(len(dataset.user_ids)), key=lambda u: len(dataset.conversations_of[u]))
    median = len(dataset.conversations_of[by_count[len(by_count) // 2]])
    alike = [u for u in by_count if len(dataset.conversations_of[u]) == median]
    alike.sort(key=lambda u: sum(n for _t, _id, n in dataset.conversations_of[u]))
    return alike[len(alike) // 2]


def _cases(conversation: tuple[int, int, int]) -> list[dict[str, Any]]:
    chat_type, target_id, _count = conversation
    cases = []
    for scope in ("all", "one"):
        for key, (term, _share) in search_data.TERMS.items():
            params: dict[str, Any] = {"keyword": term}
            if scope == "one":
                params |= {"chat_type": chat_type, "target_id": target_id}
            cases.append({"name": f"{key} {scope}", "params": params})
    return cases


async def _time_cases(
    api: Api, token: str, cases: list[dict[str, Any]], *, rounds: int, time_limit: float
) -> dict[str, dict[str, Any]]:
    latencies: dict[str, list[float]] = {case["name"]: [] for case in cases}
    found: dict[str, tuple[int, bool]] = {}
    deadline = now() + time_limit
    for round_number in range(WARM_UP_ROUNDS + rounds):
        if now() > deadline:
            break
        for case in cases:
            path = "/chat/search?" + urlencode(case["params"])
            started = now()
            data = await api.call("GET", path, token=token)
            elapsed = now() - started
            if round_number >= WARM_UP_ROUNDS:
                latencies[case["name"]].append(elapsed)
            found[case["name"]] = (len(data["messages"]), data["hasMore"])
    return {
        name: {**percentiles(values), "results": found[name][0], "has_more": found[name][1]}
        for name, values in latencies.items()
    }


def _plans(stack: Stack, token: str, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    request = {
        "token": token,
        "cases": [{**case, "generic": case["name"].startswith("common")} for case in cases],
    }
    done = subprocess.run(
        [sys.executable, "-m", "bench.search_plans"],
        cwd=ROOT,
        env={**stack.env(), "DB_PREPARED_STATEMENTS": "0"},
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.search_plans failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def _plans_markdown(result: dict[str, Any], plans: list[dict[str, Any]]) -> str:
    lines = [
        "# Search plans (scenario 6, issue 23)",
        "",
        "Written by `BENCH_SCENARIOS=6 make bench` (`bench/search.py`): the page query of "
        "`GET /chat/search` for each timed case, as `EXPLAIN (ANALYZE, BUFFERS)` with that "
        "case's parameters, run right after the timings (warm cache). For the common term the "
        "generic plan of the prepared statement follows (`plan_cache_mode = "
        "force_generic_plan`): a server connection prepares a statement after five runs and "
        "may switch to it after five more.",
        "",
        f"Code: {_git_describe()}.",
        "",
        f"Data: {json.dumps(result['data'], ensure_ascii=False)}",
        "",
        f"Searching user: {json.dumps(result['user'], ensure_ascii=False)}",
        "",
    ]
    shown_sql: set[str] = set()
    for plan in plans:
        timing = result["cases"].get(plan["name"], {})
        lines += [
            f"## {plan['name']}: `{_keyword(plan['name'])}`",
            "",
            f"HTTP p50 {timing.get('p50')} ms, p95 {timing.get('p95')} ms; "
            f"{timing.get('results')} results, hasMore {timing.get('has_more')}.",
            "",
        ]
        if plan["sql"] not in shown_sql:
            shown_sql.add(plan["sql"])
            lines += ["```sql", plan["sql"], "```", ""]
        lines += [f"Parameters: `{plan['params']}`", "", "```text", plan["plan"], "```", ""]
        if plan.get("generic_plan"):
            lines += ["Generic plan:", "", "```text", plan["generic_plan"], "```", ""]
        for earlier in plan.get("before", []):
            lines += ["Run before it:", "", "```sql", earlier["sql"], "```", ""]
            lines += [
                f"Parameters: `{earlier['params']}`",
                "",
                "```text",
                earlier["plan"],
                "```",
                "",
            ]
    return "\n".join(lines)


def _git_describe() -> str:
    """The commit measured, and whether ``chat/`` had uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "chat"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"commit {head}" + (" with uncommitted changes in chat/" if dirty else "")


def _keyword(name: str) -> str:
    return search_data.TERMS[name.split()[0]][0]


async def scenario(stack: Stack, config: dict[str, Any], out_dir: Path) -> dict[str, Any]:
    if not stack.postgres:
        print("  6: search needs PostgreSQL (DATABASE_URL); skipped", flush=True)
        return {}
    started = time.perf_counter()
    dataset = search_data.load(stack.server_database_url(), messages=config["search_messages"])
    print(f"  6: loaded {dataset.counts} in {dataset.seconds}", flush=True)
    user = _typical_user(dataset)
    conversations = dataset.conversations_of[user]
    busiest = max(conversations, key=lambda c: c[2])
    api = Api(stack.base_url)
    try:
        tokens = await api.call(
            "POST", "/login", {"username": f"search{user}", "password": search_data.PASSWORD}
        )
        token = tokens["access_token"]
        cases = _cases(busiest)
        before = stack.cpu_by_component()
        timed = await _time_cases(
            api,
            token,
            cases,
            rounds=config["search_repeat"],
            time_limit=config["search_time_limit_s"],
        )
        after = stack.cpu_by_component()
    finally:
        await api.close()
    requests = sum(case["count"] for case in timed.values())
    result: dict[str, Any] = {
        "data": {
            **dataset.counts,
            "messages_with_term": {
                f"{key} ({search_data.TERMS[key][0]})": count
                for key, count in dataset.term_counts.items()
            },
            "load_seconds": dataset.seconds,
        },
        "user": {
            "id": dataset.user_ids[user],
            "conversations": len(conversations),
            "messages_visible": sum(n for _t, _id, n in conversations),
            "one_conversation": {
                "chat_type": busiest[0],
                "target_id": busiest[1],
                "messages": busiest[2],
            },
        },
        "cases": timed,
        "cpu_ms_per_search": {
            part: round(1000 * (after[part] - before[part]) / max(requests, 1), 2) for part in after
        },
    }
    plans = _plans(stack, token, cases)
    out_dir.mkdir(parents=True, exist_ok=True)
    plans_path = out_dir / "search-plans.md"
    plans_path.write_text(_plans_markdown(result, plans))
    result["seconds"] = round(time.perf_counter() - started, 1)
    print(f"  6: wrote {plans_path}", flush=True)
    return {
        "6_search": result,
        "6_search_rare_all": timed["rare all"],
        "6_search_common_all": timed["common all"],
    }
