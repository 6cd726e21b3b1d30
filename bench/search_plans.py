"""``EXPLAIN (ANALYZE, BUFFERS)`` of the page query of ``GET /chat/search`` (scenario 6).

Run by ``bench.search`` as ``python -m bench.search_plans`` with the server's environment (same
database and settings): reads ``{"token": ..., "cases": [{"name": ..., "params": {...}}]}`` as
JSON on stdin, makes each request through Django's test client (the real view, serializer and
selector) and records the statements that test the text (``ILIKE``) or look up the bigram
index. Prints, as JSON, the plan of the page query (the last that tests the text) with these
parameters (a custom plan: what PostgreSQL runs for an unprepared statement and for the first
five executions of a prepared one), the plans of the statements before it, and, with
``"generic": true`` in a case, the generic plan of the prepared page query too (what a server
connection may switch to once it has prepared the statement).
"""

import json
import os
import re
import sys
from typing import Any


def _capture(token: str, params: dict[str, Any]) -> list[tuple[str, tuple[Any, ...]]]:
    """The statements of one search that test the text (``ILIKE``) or look up the bigram
    index, in the order run; the last with ``ILIKE`` is the page query."""
    from django.db import connection
    from django.test import Client

    seen: list[tuple[str, tuple[Any, ...]]] = []

    def record(execute, sql, sql_params, many, context):
        if "ILIKE" in sql or "im_bigrams" in sql:
            seen.append((sql, tuple(sql_params or ())))
        return execute(sql, sql_params, many, context)

    with connection.execute_wrapper(record):
        response = Client().get(
            "/chat/search", params, HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="127.0.0.1"
        )
    if response.status_code != 200 or not any("ILIKE" in sql for sql, _p in seen):
        raise RuntimeError(f"search {params}: {response.status_code} {response.content[:300]}")
    return seen


def _explain(sql: str, params: tuple[Any, ...], *, generic: bool) -> str:
    from django.db import connection
    from psycopg import sql as psycopg_sql

    options = "EXPLAIN (ANALYZE, BUFFERS) "
    with connection.cursor() as cursor:
        if not generic:
            cursor.execute(options + sql, params)
            return "\n".join(row[0] for row in cursor.fetchall())
        numbered = iter(range(1, len(params) + 1))
        prepared = re.sub(r"(?<!%)%s", lambda _m: f"${next(numbered)}", sql)
        cursor.execute(f"PREPARE bench_search AS {prepared}")
        try:
            cursor.execute("SET plan_cache_mode = force_generic_plan")
            values = psycopg_sql.SQL(", ").join(map(psycopg_sql.Literal, params))
            cursor.execute(
                f"{options}EXECUTE bench_search({values.as_string(connection.connection)})"
            )
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("RESET plan_cache_mode")
            cursor.execute("DEALLOCATE bench_search")


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    request = json.load(sys.stdin)
    out = []
    for case in request["cases"]:
        statements = _capture(request["token"], case["params"])
        page = max(i for i, (sql, _p) in enumerate(statements) if "ILIKE" in sql)
        sql, params = statements[page]
        _explain(sql, params, generic=False)  # once for a warm cache, as the timed runs had
        entry = {"name": case["name"], "sql": sql, "params": [str(p) for p in params]}
        entry["plan"] = _explain(sql, params, generic=False)
        if case.get("generic"):
            entry["generic_plan"] = _explain(sql, params, generic=True)
        entry["before"] = [
            {
                "sql": sql,
                "params": [str(p) for p in params],
                "plan": _explain(sql, params, generic=False),
            }
            for sql, params in statements[:page]
        ]
        out.append(entry)
    json.dump(out, sys.stdout, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
