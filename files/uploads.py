"""Streaming uploads: the ``file`` part goes chunk by chunk to a temporary file on disk.

While it streams, the handler hashes (MD5), counts against ``IM_MAX_UPLOAD_BYTES``, keeps the
first bytes for content sniffing and checks whether the whole thing is UTF-8 text. Nothing ever
holds the whole upload in memory. The view installs this handler through its parser, so other
endpoints keep Django's defaults.
"""

import hashlib
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http.multipartparser import MultiPartParser as DjangoMultiPartParser
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import DataAndFiles, MultiPartParser

from files.sniff import HEAD_BYTES, TextDetector
from imserver.api.errors import AppError, ErrorCode, invalid_parameter_message
from imserver.api.request_limits import register_body_limit

UPLOAD_FIELD = "file"
# Room for the multipart boundaries and part headers around the file itself.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


def upload_too_large(limit: int) -> AppError:
    if limit % (1024 * 1024) == 0:
        size = _("%(size)d MiB") % {"size": limit // (1024 * 1024)}
    else:
        size = _("%(size)d bytes") % {"size": limit}
    reason = _("file must be at most %(size)s") % {"size": size}
    return AppError(
        ErrorCode.BAD_REQUEST, invalid_parameter_message(reason, UPLOAD_FIELD), http_status=413
    )


# files/urls.py; a test holds it.
UPLOAD_PATH = "/file/upload"
# The upload's body may be larger than IM_MAX_BODY_BYTES: checked at the request's entry, before
# a byte of it is read.
register_body_limit(
    "POST",
    UPLOAD_PATH,
    "multipart/form-data",
    max_bytes=lambda: settings.IM_MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD_BYTES,
    too_large=lambda: upload_too_large(settings.IM_MAX_UPLOAD_BYTES),
)


class StreamedUpload(TemporaryUploadedFile):
    """An upload on disk plus what was learned while it streamed in."""

    etag: str = ""
    head: bytes = b""
    is_text: bool = False


class StreamingUploadHandler(FileUploadHandler):
    """Keeps the first part named ``file``; every other file part is dropped unread."""

    def __init__(self, request: Any = None, *, max_bytes: int) -> None:
        super().__init__(request)
        self.max_bytes = max_bytes
        self.active = False
        self.kept_one = False

    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],
        content_length: int,
        boundary: bytes,  # type: ignore[override]  # Django passes it encoded; stubs say str
        encoding: str | None = None,
    ) -> None:
        # Refuse early when the declared body cannot hold a file within the limit.
        if content_length > self.max_bytes + MULTIPART_OVERHEAD_BYTES:
            raise upload_too_large(self.max_bytes)

    def new_file(self, field_name: str, file_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, file_name, *args, **kwargs)
        self.active = field_name == UPLOAD_FIELD and not self.kept_one
        if not self.active:
            return
        self.file = StreamedUpload(
            file_name, self.content_type, 0, self.charset, self.content_type_extra
        )
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.head = bytearray()
        self.text = TextDetector()
        self.size = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        if not self.active:
            return None
        self.size += len(raw_data)
        if self.size > self.max_bytes:
            self.active = False
            self.file.close()
            raise upload_too_large(self.max_bytes)
        self.md5.update(raw_data)
        if len(self.head) < HEAD_BYTES:
            self.head += raw_data[: HEAD_BYTES - len(self.head)]
        self.text.feed(raw_data)
        self.file.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> StreamedUpload | None:
        if not self.active:
            return None
        self.active = False
        self.kept_one = True
        upload = self.file
        upload.seek(0)
        upload.size = file_size
        upload.etag = self.md5.hexdigest()
        upload.head = bytes(self.head)
        upload.is_text = self.text.finish()
        return upload

    def upload_interrupted(self) -> None:
        if self.active:
            self.file.close()


class StreamingMultiPartParser(MultiPartParser):
    """DRF's multipart parser with only :class:`StreamingUploadHandler` installed."""

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> "DataAndFiles[Any, Any]":  # generic in the stubs only
        parser_context = parser_context or {}
        request = parser_context["request"]
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        meta = request.META.copy()
        meta["CONTENT_TYPE"] = media_type
        handlers = [StreamingUploadHandler(max_bytes=settings.IM_MAX_UPLOAD_BYTES)]
        try:
            data, files = DjangoMultiPartParser(meta, stream, handlers, encoding).parse()
        except (MultiPartParserError, SuspiciousOperation) as exc:
            # Malformed bodies, too many parts, oversized plain fields: a 40000, never a 500.
            raise ParseError(str(exc)) from exc
        return DataAndFiles(data, files)
