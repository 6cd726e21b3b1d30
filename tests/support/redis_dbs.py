"""The Redis databases a test run uses on REDIS_URL's server, one set per pytest-xdist worker.

The tests empty whole databases (``cache.clear()`` around every test, FLUSHDB before the e2e
servers start), so no two workers share one. Pub/sub channels span every database of a server:
each worker also gets a channel-layer prefix of its own (``IM_CHANNEL_PREFIX``), or the servers of
one worker would receive the other's pushes (both number their users from 1).

``isolate_xdist_worker`` runs in the test settings (``imserver.settings_test``), before the
settings read the environment. The processes the tests start inherit that environment, and the
test settings they load too (pytest-django exports DJANGO_SETTINGS_MODULE): ``ISOLATED`` keeps
them from moving a REDIS_URL a test gave them.
"""

import os
from collections.abc import MutableMapping
from typing import Literal
from urllib.parse import urlsplit

Role = Literal["main", "e2e_cluster", "ws_rules"]

ISOLATED = "IM_TEST_REDIS_ISOLATED"

# Per worker number (gw0 is 0, and so is a run without xdist): the database of the in-process
# tests and of the servers started with the run's own REDIS_URL (None: the one REDIS_URL names),
# of the e2e cluster (tests/e2e/conftest.py) and of the WebSocket-rule servers
# (tests/e2e/test_ws_rules.py). Databases 11 and 12 are left to the benchmarks.
_DATABASES: dict[int, dict[Role, int | None]] = {
    0: {"main": None, "e2e_cluster": 14, "ws_rules": 13},
    1: {"main": 15, "e2e_cluster": 10, "ws_rules": 9},
    2: {"main": 8, "e2e_cluster": 7, "ws_rules": 6},
    3: {"main": 5, "e2e_cluster": 4, "ws_rules": 3},
}


def worker_number(environ: MutableMapping[str, str] = os.environ) -> int:
    """0 for gw0 and for a run without xdist, 1 for gw1, and so on."""
    worker = environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker.removeprefix("gw")) if worker else 0


def _databases(environ: MutableMapping[str, str]) -> dict[Role, int | None]:
    number = worker_number(environ)
    if number not in _DATABASES:
        raise RuntimeError(
            f"REDIS_URL with {number + 1} xdist workers: tests/support/redis_dbs.py has Redis "
            f"databases for {len(_DATABASES)}"
        )
    return _DATABASES[number]


def with_database(url: str, database: int) -> str:
    return urlsplit(url)._replace(path=f"/{database}").geturl()


def redis_url_for(role: Role, environ: MutableMapping[str, str] = os.environ) -> str:
    """REDIS_URL (this worker's, once isolated) on this worker's database for ``role``."""
    database = _databases(environ)[role]
    url = environ["REDIS_URL"]
    return url if database is None else with_database(url, database)


def _check_not_taken(url: str) -> None:
    """REDIS_URL's own database (gw0's) must be no other role's."""
    database = int(urlsplit(url).path.strip("/") or 0)
    taken = {db for dbs in _DATABASES.values() for db in dbs.values() if db is not None}
    if database in taken:
        raise RuntimeError(
            f"REDIS_URL={url}: under xdist its database is taken by another worker or role "
            "(tests/support/redis_dbs.py)"
        )


def isolate_xdist_worker(environ: MutableMapping[str, str] = os.environ) -> None:
    """Under xdist with REDIS_URL set, once per worker: REDIS_URL (and a CHANNEL_LAYER_REDIS_URL
    equal to it) on this worker's database, and this worker's channel-layer prefix."""
    worker = environ.get("PYTEST_XDIST_WORKER")
    url = environ.get("REDIS_URL")
    if not worker or not url or environ.get(ISOLATED):
        return
    _check_not_taken(url)
    own = redis_url_for("main", environ)
    if environ.get("CHANNEL_LAYER_REDIS_URL") == url:
        environ["CHANNEL_LAYER_REDIS_URL"] = own
    environ["REDIS_URL"] = own
    environ["IM_CHANNEL_PREFIX"] = f"asgi-{worker}"
    environ[ISOLATED] = "1"
