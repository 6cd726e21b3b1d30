"""``/metrics`` in one process: who may read it and how requests are labelled; the metrics the
real-server test (tests/e2e/test_metrics.py) cannot move exactly (group-commit batch sizes, the
lanes' queue and wait) and the backing-service errors, each met through a backend that really
fails; and the Grafana dashboard, built on exactly the metrics the server exports."""

import json
import re
import threading
import time
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from prometheus_client import REGISTRY, Counter, Gauge, Histogram

from chat.group_commit import GroupCommit
from files.storage import storage_save
from imserver import metrics
from imserver.api.errors import AppError, ErrorCode
from imserver.overrides.lanes import LaneExecutor
from imserver.publish import deliver
from tests.support.server import ROOT
from tests.support.threads import start_thread, wait_for

DASHBOARD = ROOT / "deploy" / "grafana-imserver.json"
TOKEN = "a-long-scrape-token"


def value(name: str, **labels: str) -> float:
    """A sample of this process's registry (no ``PROMETHEUS_MULTIPROC_DIR`` in the test run)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


# --- who may read it ------------------------------------------------------------------------------
def test_loopback_reads_metrics_by_default(client):
    for address in ("127.0.0.1", "::1"):
        response = client.get("/metrics", REMOTE_ADDR=address)
        assert response.status_code == 200, address
        assert response["Content-Type"].startswith("text/plain; version=0.0.4")
        assert b"# TYPE imserver_messages_sent_total counter" in response.content


def test_scrapers_get_the_format_they_ask_for(client):
    response = client.get("/metrics", HTTP_ACCEPT="application/openmetrics-text; version=1.0.0")
    assert response["Content-Type"].startswith("application/openmetrics-text")
    assert response.content.endswith(b"# EOF\n")


def refused(response) -> bool:
    return response.status_code == 403 and json.loads(response.content) == {
        "code": ErrorCode.FORBIDDEN,
        "message": "Permission denied",
    }


def test_other_addresses_are_refused_with_the_forbidden_envelope(client):
    assert refused(client.get("/metrics", REMOTE_ADDR="203.0.113.7", HTTP_ACCEPT_LANGUAGE="en"))
    # A scraper that accepts plain text only still gets its refusal (not a 406).
    assert refused(
        client.get(
            "/metrics",
            REMOTE_ADDR="203.0.113.7",
            HTTP_ACCEPT="text/plain",
            HTTP_ACCEPT_LANGUAGE="en",
        )
    )
    # The view reads the address daphne gives (REMOTE_ADDR), never the header itself.
    assert refused(
        client.get(
            "/metrics",
            REMOTE_ADDR="203.0.113.7",
            HTTP_X_FORWARDED_FOR="127.0.0.1",
            HTTP_ACCEPT_LANGUAGE="en",
        )
    )


def test_the_allow_list_and_the_token_each_let_a_scraper_in(client, settings):
    settings.IM_METRICS_ALLOW = ["10.0.0.0/8", "2001:db8::/32"]
    settings.IM_METRICS_TOKEN = TOKEN
    english = {"HTTP_ACCEPT_LANGUAGE": "en"}
    assert refused(client.get("/metrics", REMOTE_ADDR="127.0.0.1", **english))
    assert refused(
        client.get("/metrics", HTTP_AUTHORIZATION="Bearer not-the-token", **english),
    )
    assert refused(client.get("/metrics", HTTP_AUTHORIZATION=TOKEN, **english))  # no scheme
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"bearer {TOKEN}").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.20.30.40").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="2001:db8::5").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::ffff:10.1.1.1").status_code == 200


def test_without_a_configured_token_no_bearer_is_accepted(client, settings):
    settings.IM_METRICS_ALLOW = []
    settings.IM_METRICS_TOKEN = ""
    for authorization in ("Bearer ", "Bearer", ""):
        response = client.get(
            "/metrics", HTTP_AUTHORIZATION=authorization, HTTP_ACCEPT_LANGUAGE="en"
        )
        assert refused(response), authorization


@pytest.mark.django_db
def test_metrics_is_not_part_of_the_client_api_schema(client):
    spec = json.loads(client.get("/api/schema?format=json").content)
    assert "/metrics" not in spec["paths"]


# --- HTTP requests by route -----------------------------------------------------------------------
def test_requests_are_counted_by_url_pattern_never_by_path(client):
    info = {"route": "/user/info", "status": "401"}
    before = value("imserver_http_requests_total", **info)
    timed = value("imserver_http_request_duration_seconds_count", route="/user/info")
    unmatched = value("imserver_http_requests_total", route="unmatched", status="404")
    for user_id in (1, 22, 333):
        assert client.get(f"/user/info?user_id={user_id}").status_code == 401
    assert client.get("/no/such/path/12345").status_code == 404
    assert value("imserver_http_requests_total", **info) == before + 3
    assert value("imserver_http_request_duration_seconds_count", route="/user/info") == timed + 3
    assert value("imserver_http_requests_total", route="unmatched", status="404") == unmatched + 1
    exposition = client.get("/metrics").content.decode()
    assert "12345" not in exposition and "no/such" not in exposition


def test_a_body_refused_before_the_view_still_counts_under_its_route(client, settings):
    labels = {"route": "/chat/send", "status": "413"}
    before = value("imserver_http_requests_total", **labels)
    response = client.post(
        "/chat/send",
        b"x" * (settings.IM_MAX_BODY_BYTES + 1),
        content_type="application/json",
    )
    assert response.status_code == 413
    assert value("imserver_http_requests_total", **labels) == before + 1


# --- group commit ---------------------------------------------------------------------------------
def test_group_commit_batch_sizes_are_observed():
    release = threading.Event()
    batches: list[list[int]] = []

    def run_batch(items: list[int]) -> None:
        batches.append(items)
        if items == [0]:
            release.wait(10)

    commits: GroupCommit[int] = GroupCommit(run_batch)
    count = value("imserver_group_commit_batch_size_count")
    total = value("imserver_group_commit_batch_size_sum")
    ones = value("imserver_group_commit_batch_size_bucket", le="1.0")
    up_to_four = value("imserver_group_commit_batch_size_bucket", le="4.0")
    up_to_six = value("imserver_group_commit_batch_size_bucket", le="6.0")

    first = start_thread(lambda: commits.submit(0))
    wait_for(lambda: batches == [[0]])
    others = [start_thread(lambda n=n: commits.submit(n)) for n in range(1, 6)]
    wait_for(lambda: len(commits._queue) == 5)
    release.set()
    for thread, outcome in [first, *others]:
        thread.join(10)
        assert outcome == {"result": None}

    assert [len(batch) for batch in batches] == [1, 5]
    assert value("imserver_group_commit_batch_size_count") == count + 2
    assert value("imserver_group_commit_batch_size_sum") == total + 6
    assert value("imserver_group_commit_batch_size_bucket", le="1.0") == ones + 1
    assert value("imserver_group_commit_batch_size_bucket", le="4.0") == up_to_four + 1
    assert value("imserver_group_commit_batch_size_bucket", le="6.0") == up_to_six + 2


# --- lanes ----------------------------------------------------------------------------------------
def test_lane_calls_are_counted_in_the_queue_until_they_start_and_their_wait_is_timed():
    lane = LaneExecutor(99)
    depth = value("imserver_lane_queue_depth")
    waits = value("imserver_lane_wait_seconds_count")
    waited = value("imserver_lane_wait_seconds_sum")
    running, release = threading.Event(), threading.Event()
    try:
        first = lane.run(lambda: (running.set(), release.wait(10)))
        assert running.wait(10)
        assert value("imserver_lane_queue_depth") == depth  # running: out of the queue
        second = lane.run(lambda: "ran")
        third = lane.submit(lambda: "ran as asgiref's")
        cancelled = lane.run(lambda: "never")
        assert value("imserver_lane_queue_depth") == depth + 3
        assert cancelled.cancel()  # its caller gave up before it started
        assert value("imserver_lane_queue_depth") == depth + 2
        time.sleep(0.2)
        release.set()
        assert (second.result(10), third.result(10)) == ("ran", "ran as asgiref's")
        first.result(10)
    finally:
        release.set()
        lane.shutdown(wait=True)
    assert value("imserver_lane_queue_depth") == depth
    assert value("imserver_lane_wait_seconds_count") == waits + 3
    assert value("imserver_lane_wait_seconds_sum") - waited >= 0.4  # two calls waited 0.2 s


# --- backing services that really fail ------------------------------------------------------------
def test_a_failing_file_storage_is_counted(settings, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": blocker / "media"},
        },
    }
    before = value("imserver_backend_errors_total", backend="storage")
    with pytest.raises(AppError) as refusal:
        storage_save("x/y.bin", ContentFile(b"bytes"))
    assert refusal.value.error_code == ErrorCode.SERVICE_UNAVAILABLE
    assert value("imserver_backend_errors_total", backend="storage") == before + 1


def dead_redis_url() -> str:
    from tests.operations.test_health import closed_port

    return f"redis://127.0.0.1:{closed_port()}/0"


def test_a_failing_channel_layer_is_counted_with_the_pushes_it_lost(settings):
    from channels.layers import channel_layers

    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [dead_redis_url()]},
        }
    }
    channel_layers.backends.clear()
    errors = value("imserver_backend_errors_total", backend="channel_layer")
    lost = value("imserver_pushes_failed_total", stage="channel_layer")
    try:
        deliver([1, 2, 3], "message", {"content": "lost"})
    finally:
        channel_layers.backends.clear()
    assert value("imserver_backend_errors_total", backend="channel_layer") == errors + 1
    assert value("imserver_pushes_failed_total", stage="channel_layer") == lost + 3


@pytest.mark.django_db
def test_a_failing_redis_behind_a_rate_limit_is_counted(api_client, settings):
    settings.IM_THROTTLE = True
    settings.REDIS_URL = dead_redis_url()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": settings.REDIS_URL,
        }
    }
    before = value("imserver_backend_errors_total", backend="redis")
    response = api_client.post(
        "/register",
        {"username": "nobody", "password": "secret123", "email": "nobody@example.com"},
        format="json",
    )
    assert (response.status_code, response.json()["code"]) == (503, 50001)
    assert value("imserver_backend_errors_total", backend="redis") == before + 1


# --- the dashboard --------------------------------------------------------------------------------
def exported_series_names() -> set[str]:
    """Every series name the server exports: a counter's ``_total``, a histogram's
    ``_bucket``, ``_sum`` and ``_count``, a gauge's own name."""
    suffixes = {"counter": ["_total"], "gauge": [""], "histogram": ["_bucket", "_sum", "_count"]}
    names = set()
    for metric in vars(metrics).values():
        if isinstance(metric, Counter | Gauge | Histogram):
            (family,) = metric.describe()
            names.update(family.name + suffix for suffix in suffixes[family.type])
    return names


def dashboard_expressions(dashboard: dict) -> list[str]:
    expressions = []
    for panel in dashboard["panels"]:
        for nested in [panel, *panel.get("panels", [])]:
            expressions.extend(target["expr"] for target in nested.get("targets", []))
    return expressions


def test_the_grafana_dashboard_uses_exactly_the_exported_metrics():
    dashboard = json.loads(Path(DASHBOARD).read_text())
    expressions = dashboard_expressions(dashboard)
    assert len(expressions) >= 15
    used = {name for expr in expressions for name in re.findall(r"\bimserver_\w+", expr)}
    exported = exported_series_names()
    assert used - exported == set()
    # Every metric (by family) appears in some panel.
    families = {re.sub(r"_(total|bucket|sum|count)$", "", name) for name in exported}
    used_families = {re.sub(r"_(total|bucket|sum|count)$", "", name) for name in used}
    assert families == used_families
    variable_queries = [
        v["definition"] for v in dashboard["templating"]["list"] if "definition" in v
    ]
    for query in variable_queries:
        assert set(re.findall(r"\bimserver_\w+", query)) <= exported
