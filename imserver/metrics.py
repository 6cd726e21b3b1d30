"""The server's Prometheus metrics: every definition, and how a scrape reads them.

Every name starts with ``imserver_``; docs/deployment.md ("Metrics") lists them with their
labels, and deploy/grafana-imserver.json is built on them. Apps record through the children and
functions here, so the label values stay a fixed, small set.

Under ``python -m imserver.serve`` the supervisor sets ``PROMETHEUS_MULTIPROC_DIR`` before any
worker starts: prometheus-client then keeps each worker's values in memory-mapped files there,
and a scrape answered by any worker sums the files of all of them (``render``). A process
started without it (``manage.py``, a test in one process) keeps its values in memory, in
prometheus-client's default registry. Which of the two is decided when prometheus-client is
first imported, so the variable must be set before that.

Recording costs a lock and a write to memory (a mapped file in multiprocess mode) per value:
the children that the hot paths use are made once (``labels()`` looks its child up under a lock).
"""

import os
from typing import Final, Literal

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    multiprocess,
)
from prometheus_client.exposition import choose_encoder

MULTIPROC_DIR_VARIABLE: Final = "PROMETHEUS_MULTIPROC_DIR"

# Counters get no ``_created`` series: multiprocess mode cannot report them, and one process
# should expose the same series as several.
disable_created_metrics()

# --- HTTP -----------------------------------------------------------------------------------------
HTTP_REQUESTS = Counter(
    "imserver_http_requests",
    "HTTP requests answered, by URL pattern and HTTP status.",
    ["route", "status"],
)
HTTP_REQUEST_DURATION = Histogram(
    "imserver_http_request_duration_seconds",
    "Time from the request reaching Django's middleware to its response, by URL pattern.",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
# The route of a request no URL pattern names (only the catch-all 40004 view matched it).
UNMATCHED_ROUTE: Final = "unmatched"

# --- Sockets, messages, pushes --------------------------------------------------------------------
OPEN_SOCKETS = Gauge(
    "imserver_open_sockets",
    "Authenticated /ws sockets open, summed over the live worker processes.",
    multiprocess_mode="livesum",
)
MESSAGES_SENT = Counter(
    "imserver_messages_sent",
    "Message sends answered with success (REST or /ws; private or group chat).",
    ["path", "chat_type"],
)
PUSHES_DELIVERED = Counter(
    "imserver_pushes_delivered",
    "Push frames written to a socket (one per socket).",
)
PUSHES_LOCAL = Counter(
    "imserver_pushes_local",
    "Pushes handed to this process's sockets without the channel layer (local delivery).",
)
PUSHES_FAILED = Counter(
    "imserver_pushes_failed",
    "Pushes lost: per recipient user when the channel layer refused them (stage "
    '"channel_layer"), per socket when writing to a closing socket failed (stage "socket").',
    ["stage"],
)
PUSHES_FAILED_CHANNEL_LAYER: Final = PUSHES_FAILED.labels(stage="channel_layer")
PUSHES_FAILED_SOCKET: Final = PUSHES_FAILED.labels(stage="socket")

# --- Group commit and lanes -----------------------------------------------------------------------
GROUP_COMMIT_BATCH_SIZE = Histogram(
    "imserver_group_commit_batch_size",
    "Message sends stored in one transaction by group commit (chat/group_commit.py).",
    buckets=(1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64, 128),
)
LANE_QUEUE_DEPTH = Gauge(
    "imserver_lane_queue_depth",
    "Synchronous calls waiting for their lane thread (imserver/overrides/lanes.py), summed over "
    "the live worker processes.",
    multiprocess_mode="livesum",
)
LANE_WAIT = Histogram(
    "imserver_lane_wait_seconds",
    "Time a synchronous call waited for its lane thread before it started.",
    buckets=(0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)

# --- Refusals and backing services ----------------------------------------------------------------
RATE_LIMIT_REFUSALS = Counter(
    "imserver_rate_limit_refusals",
    "Actions refused with 42900, by limit (the scope of imserver/api/throttling.py's limits, "
    '"login-failure" for the failed-login limit).',
    ["limit"],
)
BACKEND_ERRORS = Counter(
    "imserver_backend_errors",
    "Failures of a backing service met while serving: database, redis (cache, limits, presence), "
    "channel_layer, storage.",
    ["backend"],
)
DATABASE_ERRORS: Final = BACKEND_ERRORS.labels(backend="database")
REDIS_ERRORS: Final = BACKEND_ERRORS.labels(backend="redis")
CHANNEL_LAYER_ERRORS: Final = BACKEND_ERRORS.labels(backend="channel_layer")
STORAGE_ERRORS: Final = BACKEND_ERRORS.labels(backend="storage")

Path = Literal["rest", "ws"]
_CHAT_TYPES: Final = {0: "private", 1: "group"}
_MESSAGES_SENT = {
    (path, chat_type): MESSAGES_SENT.labels(path=path, chat_type=name)
    for path in ("rest", "ws")
    for chat_type, name in _CHAT_TYPES.items()
}
_HTTP: dict[tuple[str, int], tuple[Counter, Histogram]] = {}
_RATE_LIMITS: dict[str, Counter] = {}


def message_sent(path: Path, chat_type: int) -> None:
    """One send answered with success; ``chat_type`` 0 private, 1 group (CONTRACT 6)."""
    _MESSAGES_SENT[path, chat_type].inc()


def request_answered(route: str, status: int, seconds: float) -> None:
    children = _HTTP.get((route, status))
    if children is None:  # routes x statuses: a bounded set, each made once
        children = _HTTP[route, status] = (
            HTTP_REQUESTS.labels(route=route, status=str(status)),
            HTTP_REQUEST_DURATION.labels(route=route),
        )
    children[0].inc()
    children[1].observe(seconds)


def rate_limit_refused(limit: str) -> None:
    child = _RATE_LIMITS.get(limit)
    if child is None:  # one per limit defined in the code
        child = _RATE_LIMITS[limit] = RATE_LIMIT_REFUSALS.labels(limit=limit)
    child.inc()


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_DIR_VARIABLE) or None


def render(accept_header: str) -> tuple[bytes, str]:
    """The exposition of every metric (of all worker processes in multiprocess mode), in the
    format the scraper's ``Accept`` asks for: the body and its content type."""
    registry = REGISTRY
    if multiprocess_dir() is not None:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    encoder, content_type = choose_encoder(accept_header)
    return encoder(registry), content_type
