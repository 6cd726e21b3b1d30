"""The error codes of CONTRACT 1 and the one application error class services raise."""

from enum import IntEnum
from typing import TYPE_CHECKING

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException, ErrorDetail

if TYPE_CHECKING:  # a development requirement
    from django_stubs_ext import StrOrPromise


class ErrorCode(IntEnum):
    SUCCESS = 20000
    BAD_REQUEST = 40000
    UNAUTHORIZED = 40001
    FORBIDDEN = 40003
    NOT_FOUND = 40004
    CONFLICT = 40009
    RATE_LIMITED = 42900
    SERVER_ERROR = 50000
    SERVICE_UNAVAILABLE = 50001


HTTP_STATUS_BY_CODE: dict[ErrorCode, int] = {
    ErrorCode.SUCCESS: status.HTTP_200_OK,
    ErrorCode.BAD_REQUEST: status.HTTP_400_BAD_REQUEST,
    ErrorCode.UNAUTHORIZED: status.HTTP_401_UNAUTHORIZED,
    ErrorCode.FORBIDDEN: status.HTTP_403_FORBIDDEN,
    ErrorCode.NOT_FOUND: status.HTTP_404_NOT_FOUND,
    ErrorCode.CONFLICT: status.HTTP_409_CONFLICT,
    ErrorCode.RATE_LIMITED: status.HTTP_429_TOO_MANY_REQUESTS,
    ErrorCode.SERVER_ERROR: status.HTTP_500_INTERNAL_SERVER_ERROR,
    ErrorCode.SERVICE_UNAVAILABLE: status.HTTP_503_SERVICE_UNAVAILABLE,
}

DEFAULT_MESSAGES: "dict[ErrorCode, StrOrPromise]" = {
    ErrorCode.BAD_REQUEST: _("Invalid parameter"),
    ErrorCode.UNAUTHORIZED: _("Not logged in or invalid token"),
    ErrorCode.FORBIDDEN: _("Permission denied"),
    ErrorCode.NOT_FOUND: _("Not found"),
    ErrorCode.CONFLICT: _("Conflict"),
    ErrorCode.RATE_LIMITED: _("Too many requests, please try again later"),
    ErrorCode.SERVER_ERROR: _("Internal server error"),
    ErrorCode.SERVICE_UNAVAILABLE: _("A backing service failed"),
}


class AppError(APIException):
    """A refusal with a contract code, e.g. ``AppError(ErrorCode.NOT_FOUND, _("User not found"))``.

    ``http_status`` overrides the status of the code table where the contract asks for
    another one (413 for an oversized upload, 405 for a wrong method); ``data``, when given, is
    sent as the envelope's ``data`` (``/healthz`` names the failed check there);
    ``retry_after`` (seconds) of a 42900 becomes the ``Retry-After`` header, as DRF's
    ``Throttled.wait`` does.
    """

    detail: ErrorDetail  # one message, never a list or a mapping

    def __init__(
        self,
        code: ErrorCode,
        message: "StrOrPromise | None" = None,
        *,
        http_status: int | None = None,
        data: object = None,
        retry_after: int | None = None,
    ) -> None:
        self.error_code = code
        self.data = data
        self.wait = retry_after
        self.status_code = http_status or HTTP_STATUS_BY_CODE[code]
        super().__init__(detail=message if message is not None else DEFAULT_MESSAGES[code])


def bad_request(message: str | Promise) -> AppError:
    """A 40000 whose message starts with the translated "Invalid parameter" prefix."""
    return AppError(ErrorCode.BAD_REQUEST, invalid_parameter_message(message))


def invalid_parameter_message(reason: str | Promise, field: str | None = None) -> str:
    if field:
        return _("Invalid parameter: %(field)s: %(reason)s") % {"field": field, "reason": reason}
    return _("Invalid parameter: %(reason)s") % {"reason": reason}


def error_body(code: ErrorCode, message: str | Promise, **extra: object) -> dict[str, object]:
    """The failure envelope; the only place it is spelled.

    A message that quotes client input may hold a lone surrogate, which no UTF-8 encoder can
    write: it is spelled as its escape (``\\ud800``) so the refusal itself can be rendered.
    """
    text = str(message)
    if not text.isascii():
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return {"code": int(code), "message": text, **extra}
