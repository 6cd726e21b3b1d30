"""Structured logs: one access line per request, JSON with ``LOG_FORMAT=json``, the request id in
every line and in the 50000 answer, a socket's connection and user on its lines."""

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from typing import Any, cast

import pytest
from django.conf import settings

from imserver.api.access_log import JsonFormatter, PlainFormatter
from imserver.api.request_id import RequestIdLogFilter
from imserver.logs import SocketLogFilter, socket_log_bound
from imserver.overrides.lanes import run_sync

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


def test_a_sockets_lines_name_its_connection_and_user_also_from_a_lane():
    """``LOG_FORMAT=plain``: a ``/ws`` connection's lines end with its connection and user ids,
    also those written by the synchronous code it runs (``run_sync``); other lines do not."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(RequestIdLogFilter())
    handler.addFilter(SocketLogFilter())
    formatters = cast(dict[str, Any], settings.LOGGING)["formatters"]
    handler.setFormatter(PlainFormatter(formatters["plain"]["format"]))
    logger = logging.getLogger("tests.socket_lines")
    logger.addHandler(handler)

    async def socket_lines() -> str:
        with socket_log_bound("/ws") as socket_log:
            logger.warning("handshake")
            socket_log.user_id = 7
            await run_sync(logger.warning, "on a lane")
            return socket_log.connection_id

    try:
        connection_id = asyncio.run(socket_lines())
        logger.warning("elsewhere")
    finally:
        logger.removeHandler(handler)
    handshake, on_a_lane, elsewhere = buffer.getvalue().splitlines()
    assert handshake.endswith(f" handshake connection_id={connection_id} user_id=None")
    assert on_a_lane.endswith(f" on a lane connection_id={connection_id} user_id=7")
    assert elsewhere.endswith("[-] elsewhere")
