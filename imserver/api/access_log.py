"""One access-log line per HTTP request, and the two log formats (``LOG_FORMAT``).

The line carries ``method``, ``path`` (never the query string: it may hold a token), ``status``
and ``duration_ms`` as record attributes; the request id comes from the request-id filter.
With ``LOG_FORMAT=json`` every log line is one JSON object holding those attributes.
"""

import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse

access_logger = logging.getLogger("imserver.access")

# The attributes every LogRecord has; anything else on a record was passed with ``extra=``.
_STANDARD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys()) | {
    "message",
    "asctime",
    "request_id",
}


class AccessLogMiddleware:
    """Logs ``GET /user/profile 200 3.1ms`` once the view has answered.

    For a streamed response (a download) the duration ends when streaming starts.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        access_logger.info(
            "%s %s %s %.1fms",
            request.method,
            request.path,
            response.status_code,
            duration_ms,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": duration_ms,
            },
        )
        return response


class PlainFormatter(logging.Formatter):
    """The format string's line, and ``connection_id=... user_id=...`` on a ``/ws``
    connection's lines (``imserver.logs.SocketLogFilter``)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        connection_id = getattr(record, "connection_id", None)
        if connection_id is None:
            return line
        return f"{line} connection_id={connection_id} user_id={getattr(record, 'user_id', None)}"


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", "request_id", ...extra, "exc_info"?}``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
