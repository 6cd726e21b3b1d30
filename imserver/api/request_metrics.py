"""Each HTTP request counted and timed by its URL pattern (``imserver.metrics``).

The label is the pattern that matched (``chat/send``, ``admin/<path:object_id>/``), never the
path itself, so ids in paths make no new series; a path only the catch-all 40004 view matches
is ``unmatched``. A request answered before URL resolution (a refused body size or host) is
resolved here to find its pattern.
"""

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.urls import Resolver404, resolve

from imserver import metrics

# The catch-all pattern of imserver/urls.py (``re_path(r"^", UnknownPathView)``).
_CATCH_ALL = "^"


def route_of(request: HttpRequest) -> str:
    match = request.resolver_match
    if match is None:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return metrics.UNMATCHED_ROUTE
    route = match.route
    return metrics.UNMATCHED_ROUTE if route == _CATCH_ALL else "/" + route


class RequestMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        response = self.get_response(request)
        metrics.request_answered(
            route_of(request), response.status_code, time.perf_counter() - started
        )
        return response
