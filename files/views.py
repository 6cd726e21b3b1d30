"""API.md 7.1-7.5. Each action: validate, call one service or selector, return data."""

from collections.abc import Mapping

from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.response import Response

from accounts.authentication import AuthenticatedRequest
from chat import file_access
from chat import services as chat_services
from files import selectors, services
from files.download import RangeNotSatisfiable, download_response
from files.openapi import FileDataSerializer, FileRecordsSerializer
from files.serializers import FileIdSerializer, UploadInputSerializer
from files.uploads import StreamingMultiPartParser
from imserver.api.pagination import page_from_request
from imserver.api.schema import (
    UPLOAD_BODY,
    ConfirmationSerializer,
    ErrorResponse,
    page_parameters,
    responses,
)
from imserver.api.throttling import uploads_by_user
from imserver.api.validation import validated


class FileViewSet(viewsets.ViewSet):
    # Multipart bodies stream to disk through files.uploads; JSON or a form for DELETE's body.
    parser_classes = [JSONParser, FormParser, StreamingMultiPartParser]

    @extend_schema(
        summary="7.1 Upload a file (multipart field `file`)",
        request={"multipart/form-data": UPLOAD_BODY},
        responses=responses(FileDataSerializer, 413, 503),
    )
    def upload(self, request: AuthenticatedRequest) -> Response:
        uploads_by_user.hit(request.user.pk)  # before the body is read
        data = validated(UploadInputSerializer, request.data)
        file = services.file_upload(user=request.user, upload=data["file"])
        return Response(selectors.file_data(file))

    @extend_schema(
        summary="7.2 Download a file's bytes (honours a single `Range`)",
        parameters=[FileIdSerializer],
        responses={
            (200, "*/*"): OpenApiResponse(OpenApiTypes.BINARY, description="the whole file"),
            (206, "*/*"): OpenApiResponse(OpenApiTypes.BINARY, description="the requested range"),
            404: ErrorResponse(404),
            416: ErrorResponse(416),
            503: ErrorResponse(503),
        },
    )
    def download(self, request: AuthenticatedRequest) -> StreamingHttpResponse:
        data = validated(FileIdSerializer, request.query_params)
        file = file_access.file_get_readable(user=request.user, **data)
        return download_response(request, file)

    @extend_schema(
        summary="7.3 Delete my file; file_id in the query or a JSON body",
        parameters=[FileIdSerializer],
        responses=responses(ConfirmationSerializer, 403, 404, 503),
    )
    def remove(self, request: AuthenticatedRequest) -> Response:
        """Named so that it never doubles as the viewset's HTTP DELETE handler on other paths."""
        # CONTRACT 1: file_id in the query string or in the JSON body.
        body = request.data if isinstance(request.data, Mapping) else {}
        source = request.query_params if "file_id" in request.query_params else body
        chat_services.file_delete(user=request.user, **validated(FileIdSerializer, source))
        return Response({"message": _("Deleted successfully")})

    @extend_schema(
        summary="7.4 A file's info",
        parameters=[FileIdSerializer],
        responses=responses(FileDataSerializer, 404),
    )
    def info(self, request: AuthenticatedRequest) -> Response:
        data = validated(FileIdSerializer, request.query_params)
        return Response(
            selectors.file_data(file_access.file_get_readable(user=request.user, **data))
        )

    @extend_schema(
        summary="7.5 My uploads, newest first",
        parameters=page_parameters(),
        responses=responses(FileRecordsSerializer),
    )
    def record(self, request: AuthenticatedRequest) -> Response:
        page = page_from_request(request)
        files = selectors.file_list_for_user(user=request.user)
        return Response(
            {
                "file_records": [selectors.file_data(file) for file in page.slice(files)],
                "total": files.count(),
            }
        )

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        if isinstance(exc, RangeNotSatisfiable):
            response["Content-Range"] = f"bytes */{exc.size}"
        return response
