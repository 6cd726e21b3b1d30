"""The file bytes, only through Django's storage API (local folder or S3 via django-storages)."""

import logging
from collections.abc import AsyncIterator, Iterator
from typing import IO

from asgiref.sync import sync_to_async
from django.core.files import File as DjangoFile
from django.core.files.storage import Storage, storages
from django.utils.translation import gettext_lazy as _

from imserver import metrics
from imserver.api.errors import AppError, ErrorCode

logger = logging.getLogger(__name__)

CHUNK_SIZE = 256 * 1024

try:  # boto3 is a runtime dependency, but keep local-only deployments importable without it.
    from botocore.exceptions import BotoCoreError, ClientError

    STORAGE_ERRORS: tuple[type[Exception], ...] = (OSError, BotoCoreError, ClientError)
except ImportError:  # pragma: no cover
    STORAGE_ERRORS = (OSError,)


def file_storage() -> Storage:
    return storages["default"]


def storage_unavailable() -> AppError:
    """The refusal of a failed storage operation, counted (``imserver_backend_errors_total``)."""
    metrics.STORAGE_ERRORS.inc()
    return AppError(ErrorCode.SERVICE_UNAVAILABLE, _("File storage is unavailable"))


def _is_missing(exc: Exception) -> bool:
    if isinstance(exc, FileNotFoundError):
        return True
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code")) in {"404", "NoSuchKey", "NotFound"}


def storage_save(name: str, content: "DjangoFile[bytes]") -> str:  # generic in the stubs only
    try:
        return file_storage().save(name, content)
    except STORAGE_ERRORS as exc:
        logger.exception("Saving %s to file storage failed", name)
        raise storage_unavailable() from exc


def storage_delete(name: str) -> None:
    """Remove an object; one already gone counts as removed."""
    try:
        file_storage().delete(name)
    except STORAGE_ERRORS as exc:
        if _is_missing(exc):
            return
        logger.exception("Deleting %s from file storage failed", name)
        raise storage_unavailable() from exc


def storage_open(name: str) -> IO[bytes] | None:
    """An open handle on a stored object, or None when the object is missing."""
    try:
        return file_storage().open(name, "rb")
    except STORAGE_ERRORS as exc:
        if _is_missing(exc):
            return None
        logger.exception("Opening %s in file storage failed", name)
        raise storage_unavailable() from exc


def iter_byte_range(handle: IO[bytes], *, start: int, length: int) -> Iterator[bytes]:
    """Yield ``length`` bytes from ``start`` in chunks, then close ``handle``.

    An S3 object (django-storages' ``S3File`` exposes it as ``obj``) is read with one ranged
    GET, streamed; S3File itself would first copy the whole object into a local buffer.
    """
    try:
        s3_object = getattr(handle, "obj", None)
        if s3_object is not None:
            body = s3_object.get(Range=f"bytes={start}-{start + length - 1}")["Body"]
            try:
                yield from body.iter_chunks(CHUNK_SIZE)
            finally:
                body.close()
            return
        handle.seek(start)
        remaining = length
        while remaining > 0:
            chunk = handle.read(min(CHUNK_SIZE, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        handle.close()


def _next_or_none(iterator: Iterator[bytes]) -> bytes | None:
    return next(iterator, None)


async def aiter_sync(iterator: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Serve a blocking iterator to an ASGI server chunk by chunk, in worker threads.

    Django consumes a *synchronous* streaming iterator whole before sending it under ASGI, which
    would put a download into memory; this keeps it streaming.
    """
    next_chunk = sync_to_async(_next_or_none, thread_sensitive=False)
    try:
        while (chunk := await next_chunk(iterator)) is not None:
            yield chunk
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            await sync_to_async(close, thread_sensitive=False)()
