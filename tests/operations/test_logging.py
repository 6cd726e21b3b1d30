"""Structured logs: one access line per request, JSON with ``LOG_FORMAT=json``, the request id in
every line and in the 50000 answer."""

import io
import json
import logging
from collections.abc import Iterator

import pytest

from imserver.api.access_log import JsonFormatter
from imserver.api.request_id import RequestIdLogFilter

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The root logger also writes to a buffer the way ``LOG_FORMAT=json`` configures it."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(RequestIdLogFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)


def lines(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_access_line_is_json_with_the_request_id(api_client, json_log):
    response = api_client.get("/user/profile?token=secret-in-query")
    entries = [e for e in lines(json_log) if e["logger"] == "imserver.access"]
    assert len(entries) == 1
    entry = entries[0]
    assert entry["request_id"] == response["X-Request-ID"]
    assert entry["method"] == "GET"
    assert entry["path"] == "/user/profile"
    assert entry["status"] == 401
    assert isinstance(entry["duration_ms"], float)
    assert "secret-in-query" not in json_log.getvalue()  # never the query string


@pytest.mark.urls("tests.crash_urls")
def test_server_error_carries_the_request_id_of_its_log_lines(api_client, json_log):
    response = api_client.get("/__crash/api")
    assert response.status_code == 500
    body = response.json()
    assert body["code"] == 50000
    request_id = body["request_id"]
    assert request_id == response["X-Request-ID"]
    error = next(e for e in lines(json_log) if e["logger"] == "imserver.errors")
    assert error["request_id"] == request_id
    assert error["level"] == "ERROR"
    assert "Traceback" in error["exc_info"]
    assert "secret internal detail" not in json.dumps(body)
