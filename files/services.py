"""File writes: upload, delete, purge. The bytes go to storage first, the row second, so a row
never points at bytes that were not stored; a failed row write removes the stored bytes again."""

import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from files.models import File
from files.naming import sanitize_file_name, storage_name_for
from files.selectors import (
    stored_bytes_of,
)
from files.sniff import file_type_for, sniff_content_type
from files.storage import storage_delete, storage_save
from files.uploads import StreamedUpload
from imserver.api.errors import AppError, ErrorCode, bad_request

logger = logging.getLogger(__name__)


def _ensure_within_quota(*, user_id: int, size: int) -> None:
    """413 if ``size`` more bytes would take the user past ``IM_STORAGE_QUOTA_BYTES``."""
    quota = settings.IM_STORAGE_QUOTA_BYTES
    if quota and stored_bytes_of(user_id=user_id) + size > quota:
        raise AppError(
            ErrorCode.BAD_REQUEST,
            _("storage quota exceeded: files expire or can be deleted to free space"),
            http_status=413,
        )


def file_upload(*, user: User, upload: StreamedUpload) -> File:
    """Store an upload that streamed to disk and record it; expires after ``IM_FILE_TTL_S``.

    The quota is checked before the bytes are stored (nothing stored for a refusal) and again
    with the user's row locked in the transaction that records the file, so concurrent uploads
    of one user cannot pass it together."""
    if not upload.size:
        raise bad_request(_("file is empty"))
    _ensure_within_quota(user_id=user.pk, size=upload.size)
    file_id = uuid.uuid4()
    content_type = sniff_content_type(upload.head, is_text=upload.is_text)
    upload.content_type = content_type  # the object's metadata on S3; never the client's claim
    stored_name = storage_save(storage_name_for(file_id), upload)
    created_at = timezone.now()
    try:
        with transaction.atomic():
            if settings.IM_STORAGE_QUOTA_BYTES:
                User.objects.select_for_update().filter(pk=user.pk).exists()
                _ensure_within_quota(user_id=user.pk, size=upload.size)
            return File.objects.create(
                id=file_id,
                user=user,
                file_name=sanitize_file_name(upload.name),
                file_size=upload.size,
                content_type=content_type,
                file_type=file_type_for(content_type),
                etag=upload.etag,
                storage_name=stored_name,
                created_at=created_at,
                expire_at=created_at + timedelta(seconds=settings.IM_FILE_TTL_S),
            )
    except Exception:
        storage_delete(stored_name)
        raise


def file_remove(*, file: File) -> None:
    """Remove the stored object, then the row (retrying after a storage failure is safe)."""
    storage_delete(file.storage_name)
    File.objects.filter(pk=file.pk).delete()


def files_purge_expired(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Remove every expired file (object and row); returns how many went.

    A file whose object cannot be removed now (storage down) keeps its row and is retried by the
    next run.
    """
    now = now or timezone.now()
    purged = 0
    last_pk = None
    while True:
        expired = File.objects.filter(expire_at__lte=now).order_by("pk")
        if last_pk is not None:
            expired = expired.filter(pk__gt=last_pk)
        batch = list(expired[:batch_size])
        if not batch:
            return purged
        for file in batch:
            try:
                file_remove(file=file)
            except AppError:
                logger.warning("Could not purge file %s; will retry on the next run", file.pk)
            else:
                purged += 1
        last_pk = batch[-1].pk
