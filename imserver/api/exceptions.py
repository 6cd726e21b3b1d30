"""One exception handler shapes every error DRF sees into the failure envelope."""

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

import redis.exceptions
from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.db import InterfaceError, OperationalError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from imserver import metrics
from imserver.api.errors import (
    DEFAULT_MESSAGES,
    AppError,
    ErrorCode,
    error_body,
    invalid_parameter_message,
)
from imserver.api.request_id import current_request_id
from imserver.api.request_limits import body_limit_error, too_many_fields_error

logger = logging.getLogger("imserver.errors")


def envelope_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    if isinstance(exc, Http404):
        exc = AppError(ErrorCode.NOT_FOUND)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, SuspiciousOperation):
        exc = suspicious_request_error(exc)

    exc = backing_service_error(exc) or exc
    if not isinstance(exc, exceptions.APIException):
        return server_error_response(exc)

    code, message = code_and_message(exc)
    headers = {}
    auth_header = getattr(exc, "auth_header", None)
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    if code == ErrorCode.RATE_LIMITED:
        headers["Retry-After"] = str(retry_after_seconds(exc))
    http_status = exc.status_code
    if code == ErrorCode.UNAUTHORIZED:
        http_status = status.HTTP_401_UNAUTHORIZED  # DRF turns 401 into 403 without a header.
    data = getattr(exc, "data", None)
    extra = {"data": data} if data is not None else {}
    set_rollback()
    return Response(error_body(code, message, **extra), status=http_status, headers=headers)


def backing_service_error(exc: Exception) -> AppError | None:
    """50001 for a backing service that is down or unreachable (the database, or Redis: cache,
    rate limits, presence), which is not a bug; None for any other exception. REST and /ws
    frames both use it."""
    if isinstance(exc, OperationalError | InterfaceError):
        logger.warning("database unavailable: %s", exc)
        metrics.DATABASE_ERRORS.inc()
        return AppError(ErrorCode.SERVICE_UNAVAILABLE, _("The database is unavailable"))
    # ConnectionError covers a refused or lost connection and a Redis still loading its data;
    # other RedisErrors (a wrong command, a script error) are bugs and stay 50000.
    if isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
        logger.warning("redis unavailable: %s", exc)
        metrics.REDIS_ERRORS.inc()
        return AppError(ErrorCode.SERVICE_UNAVAILABLE, _("Redis is unavailable"))
    return None


def suspicious_request_error(exc: SuspiciousOperation) -> AppError:
    """Django's refusals of a request it cannot parse safely, raised when a view first reads
    ``request.data`` (a form body, a multipart part): 40000, 413 for a body over the limit.
    The request entry refuses most of them earlier (imserver/api/request_limits.py)."""
    if isinstance(exc, RequestDataTooBig):
        return body_limit_error(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return too_many_fields_error("form")
    return AppError(ErrorCode.BAD_REQUEST)


def retry_after_seconds(exc: exceptions.APIException) -> int:
    """The ``Retry-After`` of a 42900, which every one carries (CONTRACT 12): the refusal's
    ``wait`` rounded up, at least 1; 1 when the refusal does not say."""
    wait = getattr(exc, "wait", None)
    return max(1, math.ceil(wait)) if wait is not None else 1


def server_error_response(exc: Exception) -> Response:
    """50000 with the request id, the traceback only in the log."""
    request_id = current_request_id()
    logger.error("Unhandled exception (request id %s)", request_id, exc_info=exc)
    set_rollback()
    body = error_body(
        ErrorCode.SERVER_ERROR, DEFAULT_MESSAGES[ErrorCode.SERVER_ERROR], request_id=request_id
    )
    return Response(body, status=status.HTTP_500_INTERNAL_SERVER_ERROR)


def code_and_message(exc: exceptions.APIException) -> tuple[ErrorCode, str]:
    """The contract code and the client-facing message of a DRF exception (REST and WebSocket)."""
    if isinstance(exc, AppError):
        return exc.error_code, str(exc.detail)
    if isinstance(exc, exceptions.ValidationError):
        field, reason = first_validation_error(exc.detail)
        return ErrorCode.BAD_REQUEST, invalid_parameter_message(reason, field)
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        return ErrorCode.UNAUTHORIZED, _detail_text(exc) or str(
            DEFAULT_MESSAGES[ErrorCode.UNAUTHORIZED]
        )
    if isinstance(exc, exceptions.PermissionDenied):
        return ErrorCode.FORBIDDEN, _detail_text(exc)
    if isinstance(exc, exceptions.NotFound):
        return ErrorCode.NOT_FOUND, _detail_text(exc)
    if isinstance(exc, exceptions.Throttled):
        return ErrorCode.RATE_LIMITED, str(DEFAULT_MESSAGES[ErrorCode.RATE_LIMITED])
    if isinstance(exc, exceptions.MethodNotAllowed):
        return ErrorCode.BAD_REQUEST, _("Method not allowed")
    if isinstance(exc, exceptions.ParseError):
        return ErrorCode.BAD_REQUEST, invalid_parameter_message(_("malformed request body"))
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return ErrorCode.BAD_REQUEST, invalid_parameter_message(_("unsupported content type"))
    if exc.status_code >= 500:
        return ErrorCode.SERVICE_UNAVAILABLE, _detail_text(exc)
    return ErrorCode.BAD_REQUEST, invalid_parameter_message(_detail_text(exc))


def _detail_text(exc: exceptions.APIException) -> str:
    return first_validation_error(exc.detail)[1]


def first_validation_error(detail: Any, path: str = "") -> tuple[str | None, str]:
    """The first (field path, reason) of a DRF error detail, e.g. ``("user_ids[2]", "...")``."""
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            if key in ("non_field_errors", "detail"):
                sub_path = path
            else:
                sub_path = f"{path}.{key}" if path else str(key)
            return first_validation_error(value, sub_path)
    elif isinstance(detail, Sequence) and not isinstance(detail, str):
        for index, value in enumerate(detail):
            if isinstance(value, (Mapping, list)) and value:
                return first_validation_error(value, f"{path}[{index}]")
            if value:
                return first_validation_error(value, path)
    return (path or None), str(detail)
