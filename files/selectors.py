"""File reads: the 7.4 object, lookups, lists and quotas. Who else may read a file follows from
the messages that carry it: ``chat.file_access``."""

import uuid
from typing import Any

from django.db.models import QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from files.models import File
from imserver.api.errors import bad_request

FILE_NOT_FOUND = _("File not found or expired")


def file_data(file: File) -> dict[str, Any]:
    """The file object of API.md 7.4 (also embedded in messages)."""
    return {
        "file_id": str(file.pk),
        "file_name": file.file_name,
        "file_size": file.file_size,
        "content_type": file.content_type,
        "user_id": file.user_id,
        "created_at": int(file.created_at.timestamp()),
        "expire_at": int(file.expire_at.timestamp()),
        "etag": file.etag,
        "file_type": file.file_type,
    }


def unexpired_files() -> QuerySet[File]:
    return File.objects.filter(expire_at__gt=timezone.now())


def stored_bytes_of(*, user_id: int) -> int:
    """What the user's unexpired uploads take in storage (the quota counts these)."""
    total = unexpired_files().filter(user_id=user_id).aggregate(total=Sum("file_size"))["total"]
    return total or 0


def as_uuid(file_id: uuid.UUID | str) -> uuid.UUID | None:
    try:
        return file_id if isinstance(file_id, uuid.UUID) else uuid.UUID(str(file_id))
    except ValueError:
        return None


def unexpired_file_or_none(file_id: uuid.UUID | str) -> File | None:
    file_uuid = as_uuid(file_id)
    return None if file_uuid is None else unexpired_files().filter(pk=file_uuid).first()


def file_get_for_message(*, user: User, file_id: uuid.UUID | str) -> File:
    """The sender's own unexpired upload for a message of type 1-4; anything else is a 40000."""
    file = unexpired_file_or_none(file_id)
    if file is None or file.user_id != user.pk:
        raise bad_request(_("content must be the file_id of an unexpired file you uploaded"))
    return file


def file_list_for_user(*, user: User) -> QuerySet[File]:
    """My unexpired uploads, newest first (microsecond creation time, then id)."""
    return unexpired_files().filter(user=user).order_by("-created_at", "-pk")
