"""A request id per HTTP request: taken from ``X-Request-ID`` when sane, logged, echoed back."""

import logging
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_request_id: ContextVar[str] = ContextVar("request_id", default="-")


def current_request_id() -> str:
    return _request_id.get()


def request_id_for(incoming: str) -> str:
    """The client's ``X-Request-ID`` when sane, else a fresh one."""
    return incoming if _SANE_REQUEST_ID.match(incoming) else uuid.uuid4().hex


@contextmanager
def request_id_bound(request_id: str) -> Iterator[None]:
    """Log lines written inside carry ``request_id`` (for answers given outside Django's chain)."""
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_for(request.headers.get(REQUEST_ID_HEADER, ""))
        # An attribute of ours on Django's request, for code that has the request at hand.
        request.request_id = request_id  # type: ignore[attr-defined]
        with request_id_bound(request_id):
            response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        return True
