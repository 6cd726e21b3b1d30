"""The download response: streamed bytes with the headers clients and proxies rely on.

Single ranges are honoured (206); several ranges or a malformed header get the whole file
(RFC 9110 lets a server ignore Range); an unsatisfiable range is a 416 envelope.
"""

import re
from urllib.parse import quote

from django.http import HttpRequest, StreamingHttpResponse
from django.utils.translation import gettext_lazy as _

from files.models import File
from files.naming import ascii_fallback_name
from files.selectors import FILE_NOT_FOUND
from files.storage import aiter_sync, iter_byte_range, storage_open
from imserver.api.errors import AppError, ErrorCode

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeNotSatisfiable(AppError):
    def __init__(self, size: int) -> None:
        super().__init__(
            ErrorCode.BAD_REQUEST, _("Requested range not satisfiable"), http_status=416
        )
        self.size = size


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """``(start, end)`` inclusive for one satisfiable range; None means "send everything"."""
    match = _RANGE.match(header.replace(" ", ""))
    if match is None:
        return None
    first, last = match.groups()
    if first:
        start = _position(first)
        end = min(_position(last), size - 1) if last else size - 1
        if last and _position(last) < start:
            return None  # invalid syntax: ignored
    elif last:
        suffix = _position(last)
        if suffix == 0:
            raise RangeNotSatisfiable(size)
        start, end = max(size - suffix, 0), size - 1
    else:
        return None
    if start >= size:
        raise RangeNotSatisfiable(size)
    return start, end


# A byte position of more digits is past the end of any file, as far as a range can tell.
_POSITION_DIGITS = 18


def _position(digits: str) -> int:
    """A position of a ``Range`` header; thousands of digits are never converted (Python
    refuses, and the conversion is quadratic), they count as past any end."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= _POSITION_DIGITS else 10**_POSITION_DIGITS


def content_disposition(file_name: str) -> str:
    """``attachment`` with an ASCII ``filename`` and the exact UTF-8 ``filename*`` (RFC 6266)."""
    return (
        f'attachment; filename="{ascii_fallback_name(file_name)}"; '
        f"filename*=UTF-8''{quote(file_name, safe='')}"
    )


def _wanted_range(request: HttpRequest, file: File) -> tuple[int, int] | None:
    header = request.headers.get("Range", "")
    if not header:
        return None
    if_range = request.headers.get("If-Range")
    if if_range is not None and if_range.strip() != f'"{file.etag}"':
        return None  # the client's partial copy is of another version
    return parse_range(header, file.file_size)


def download_response(request: HttpRequest, file: File) -> StreamingHttpResponse:
    wanted = _wanted_range(request, file)
    start, end = wanted if wanted is not None else (0, file.file_size - 1)
    handle = storage_open(file.storage_name)
    if handle is None:
        raise AppError(ErrorCode.NOT_FOUND, FILE_NOT_FOUND)
    chunks = iter_byte_range(handle, start=start, length=end - start + 1)
    # Under ASGI (an ASGIRequest has a scope) Django would read a synchronous iterator whole
    # before sending it: hand it an asynchronous one.
    content = aiter_sync(chunks) if getattr(request, "scope", None) is not None else chunks
    content_type = file.content_type
    if content_type == "text/plain":
        content_type = "text/plain; charset=utf-8"
    response = StreamingHttpResponse(content, content_type=content_type)
    response["Content-Length"] = str(end - start + 1)
    response["Content-Disposition"] = content_disposition(file.file_name)
    response["ETag"] = f'"{file.etag}"'
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, no-cache"
    response["X-Content-Type-Options"] = "nosniff"
    if wanted is not None:
        response.status_code = 206
        response["Content-Range"] = f"bytes {start}-{end}/{file.file_size}"
    return response
