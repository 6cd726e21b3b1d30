"""JSON envelopes for what DRF never sees: Django's 400/403/404/500 handlers, unknown paths."""

import logging

from django.http import HttpRequest, JsonResponse
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from imserver.api.errors import (
    DEFAULT_MESSAGES,
    HTTP_STATUS_BY_CODE,
    AppError,
    ErrorCode,
    error_body,
)
from imserver.api.request_id import current_request_id

logger = logging.getLogger("imserver.errors")

_JSON_OPTIONS = {"ensure_ascii": False}


def _envelope_response(code: ErrorCode, **extra: object) -> JsonResponse:
    return JsonResponse(
        error_body(code, DEFAULT_MESSAGES[code], **extra),
        status=HTTP_STATUS_BY_CODE[code],
        json_dumps_params=_JSON_OPTIONS,
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _envelope_response(ErrorCode.BAD_REQUEST)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _envelope_response(ErrorCode.FORBIDDEN)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _envelope_response(ErrorCode.NOT_FOUND)


def server_error(request: HttpRequest) -> JsonResponse:
    return _envelope_response(ErrorCode.SERVER_ERROR, request_id=current_request_id())


class UnknownPathView(APIView):
    """The last URL pattern: any unknown path is a 40004 envelope, also with DEBUG on."""

    authentication_classes: list[type[BaseAuthentication]] = []
    permission_classes = [AllowAny]

    def initial(self, request: Request, *args: object, **kwargs: object) -> None:
        super().initial(request, *args, **kwargs)
        raise AppError(ErrorCode.NOT_FOUND)
