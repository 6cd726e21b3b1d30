"""Hostile requests are refused at the entry, before any view, parser or authentication runs
(CONTRACT 12), so no endpoint has to defend itself against them:

- a body larger than the endpoint accepts: HTTP 413, 40000. A request may carry
  ``IM_MAX_BODY_BYTES`` (that size itself accepted), unless an app registered a larger limit
  for its route (:func:`register_body_limit`: files for ``POST /file/upload`` with a multipart
  body). The declared ``Content-Length`` decides before a byte of the body is read; a body
  without one is counted as it arrives and refused once over (the server overrides, which ask
  :func:`max_body_bytes` and answer with :func:`body_too_large`).
- more query parameters or form fields than ``DATA_UPLOAD_MAX_NUMBER_FIELDS``, or a query
  string that does not decode as UTF-8: 40000;
- a JSON body that is not valid UTF-8, not an object, nested deeper than ``MAX_JSON_DEPTH`` or
  holding a lone surrogate (``imserver/api/json_limits.py``, as ``/ws`` frames): 40000 naming
  the field or the body. So a parser never recurses over client data and no error message
  ever quotes a string that cannot be encoded.

None of this is a rate limit: it stays on with ``IM_THROTTLE=0``. What slips past (a form body
parsed by a view) is shaped by the one exception handler (``imserver/api/exceptions.py``).
"""

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.translation import gettext as _

from imserver.api.errors import (
    AppError,
    ErrorCode,
    bad_request,
    error_body,
    invalid_parameter_message,
)
from imserver.api.json_limits import (
    BAD_UNICODE,
    MAX_JSON_DEPTH,
    TOO_DEEP,
    JsonRefused,
    loads_checked,
)
from imserver.api.request_id import REQUEST_ID_HEADER, request_id_bound, request_id_for

access_logger = logging.getLogger("imserver.access")

JSON_MEDIA_TYPE = "application/json"
FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"


def media_type(content_type: str) -> str:
    """``multipart/form-data`` of ``Multipart/Form-Data; boundary=x``."""
    return content_type.split(";", 1)[0].strip().lower()


@dataclass(frozen=True)
class RouteBodyLimit:
    max_bytes: Callable[[], int]
    too_large: Callable[[], AppError]


_route_limits: dict[tuple[str, str, str], RouteBodyLimit] = {}


def register_body_limit(
    method: str,
    path: str,
    media_type: str,
    *,
    max_bytes: Callable[[], int],
    too_large: Callable[[], AppError],
) -> None:
    """Requests ``method path`` with a body of ``media_type`` may carry ``max_bytes()`` instead
    of ``IM_MAX_BODY_BYTES``; a larger one is answered with ``too_large()``. Both are called per
    request, so they may read settings."""
    _route_limits[(method.upper(), path, media_type.lower())] = RouteBodyLimit(max_bytes, too_large)


def _route_limit(method: str, path: str, content_type: str) -> RouteBodyLimit | None:
    return _route_limits.get((method.upper(), path, media_type(content_type)))


def max_body_bytes(method: str, path: str, content_type: str) -> int:
    """The largest body a request may carry (``path`` without the query string)."""
    route = _route_limit(method, path, content_type)
    return route.max_bytes() if route is not None else settings.IM_MAX_BODY_BYTES


def body_too_large(method: str, path: str, content_type: str) -> AppError:
    """The 413 of a body over :func:`max_body_bytes`."""
    route = _route_limit(method, path, content_type)
    return route.too_large() if route is not None else body_limit_error(settings.IM_MAX_BODY_BYTES)


def target_path(target: bytes | str) -> str:
    """The path of an HTTP request target as it reaches a server (``/a%20b?x=1`` -> ``/a b``)."""
    if isinstance(target, bytes):
        target = target.decode("latin-1")
    return unquote_to_bytes(urlsplit(target).path).decode("utf-8", "replace")


def body_limit_error(limit: int) -> AppError:
    reason = _("request body must be at most %(limit)d bytes") % {"limit": limit}
    return AppError(ErrorCode.BAD_REQUEST, invalid_parameter_message(reason), http_status=413)


def too_many_fields_error(what: str) -> AppError:
    """``what``: "query" or "form"."""
    limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    if what == "query":
        reason = _("more than %(limit)d query parameters") % {"limit": limit}
    else:
        reason = _("more than %(limit)d form fields") % {"limit": limit}
    return bad_request(reason)


def declared_length(meta: Mapping[str, Any]) -> int:
    """The request's ``Content-Length``; 0 when absent or not a number (Django reads it so)."""
    try:
        return max(0, int(meta.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


def _too_many_fields(separators: int) -> bool:
    # Django counts fields as one more than the "&" separators (limited_parse_qsl).
    limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    return limit is not None and separators + 1 > limit


def query_refusal(query: str) -> AppError | None:
    """Too many parameters, or percent-escapes that are not UTF-8 (Django would turn them into
    U+FFFD silently; a lone surrogate sent as ``%ED%A0%80`` is one of them)."""
    if _too_many_fields(query.count("&")):
        return too_many_fields_error("query")
    if "%" in query or not query.isascii():
        try:
            unquote_to_bytes(query).decode("utf-8")
        except UnicodeDecodeError:
            return bad_request(_("the query string is not valid UTF-8"))
    return None


def json_refusal(raw: bytes) -> AppError | None:
    """Why a JSON body is refused, or None for an object within the rules."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return bad_request(_("request body is not valid UTF-8"))
    try:
        value = loads_checked(text)
    except JsonRefused as refused:
        if refused.reason == TOO_DEEP:
            reason = _("request body is nested deeper than %(depth)d levels") % {
                "depth": MAX_JSON_DEPTH
            }
            return bad_request(reason)
        if refused.reason == BAD_UNICODE:
            if refused.field:
                message = invalid_parameter_message(_("invalid Unicode"), refused.field)
                return AppError(ErrorCode.BAD_REQUEST, message)
            return bad_request(_("request body holds invalid Unicode"))
        return bad_request(_("malformed request body"))
    if not isinstance(value, dict):
        return bad_request(_("request body must be a JSON object"))
    return None


def request_refusal(request: HttpRequest) -> AppError | None:
    """The first rule of this module ``request`` breaks, or None."""
    meta = request.META
    content_type = meta.get("CONTENT_TYPE", "")
    method = request.method or ""
    limit = max_body_bytes(method, request.path_info, content_type)
    if declared_length(meta) > limit or getattr(request, "body_over_limit", False):
        return body_too_large(method, request.path_info, content_type)
    query = meta.get("QUERY_STRING", "")
    if query and (refusal := query_refusal(query)) is not None:
        return refusal
    kind = media_type(content_type)
    if kind not in (JSON_MEDIA_TYPE, FORM_MEDIA_TYPE) or not declared_length(meta):
        return None
    try:
        raw = request.body  # within its limit
    except RequestDataTooBig:
        return body_limit_error(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    if kind == FORM_MEDIA_TYPE:
        return too_many_fields_error("form") if _too_many_fields(raw.count(b"&")) else None
    return json_refusal(raw) if raw.strip() else None


def refusal_response(refusal: AppError) -> JsonResponse:
    return JsonResponse(
        error_body(refusal.error_code, refusal.detail),
        status=refusal.status_code,
        json_dumps_params={"ensure_ascii": False},
    )


class RequestLimitsMiddleware:
    """Answers a request that breaks a rule of this module with its envelope, never a view.

    Placed after ``LocaleMiddleware`` (the message is in the client's language) and before
    anything that reads the body or the query string.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refusal = request_refusal(request)
        if refusal is not None:
            return refusal_response(refusal)
        return self.get_response(request)


def raw_refusal(
    *, method: str, target: bytes, content_type: str, accept_language: str, request_id: str
) -> bytes:
    """A whole HTTP/1.1 413 answer in the envelope, for a server that refuses a body before
    Django sees the request (``overrides/daphne_streaming.py``); the connection closes after it."""
    status, request_id, body = body_refusal(
        method=method,
        path=target_path(target),
        content_type=content_type,
        accept_language=accept_language,
        request_id=request_id,
    )
    head = (
        f"HTTP/1.1 {status} Content Too Large\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"{REQUEST_ID_HEADER}: {request_id}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body


def body_refusal(
    *, method: str, path: str, content_type: str, accept_language: str, request_id: str
) -> tuple[int, str, bytes]:
    """The 413 of a body over :func:`max_body_bytes` answered before Django sees the request:
    (status, request id, the envelope as JSON); its access line is logged here."""
    request_id = request_id_for(request_id)
    probe = HttpRequest()
    probe.META["HTTP_ACCEPT_LANGUAGE"] = accept_language
    with translation.override(translation.get_language_from_request(probe)):
        refusal = body_too_large(method, path, content_type)
        body = json.dumps(
            error_body(refusal.error_code, refusal.detail), ensure_ascii=False
        ).encode()
    with request_id_bound(request_id):
        access_logger.info(
            "%s %s %s %.1fms",
            method,
            path,
            refusal.status_code,
            0.0,
            extra={
                "method": method,
                "path": path,
                "status": refusal.status_code,
                "duration_ms": 0.0,
            },
        )
    return refusal.status_code, request_id, body
