"""Reads: who may see a file (CONTRACT 8), lists, and the 7.4 file object."""

import uuid
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from chat.models import Message
from files.models import File
from groups.models import Group
from imserver.api.errors import AppError, ErrorCode, bad_request

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


def unexpired_file_or_none(file_id: uuid.UUID | str) -> File | None:
    try:
        file_uuid = file_id if isinstance(file_id, uuid.UUID) else uuid.UUID(str(file_id))
    except ValueError:
        return None
    return unexpired_files().filter(pk=file_uuid).first()


def file_is_shared_with(*, user: User, file: File) -> bool:
    """Whether ``user`` takes part in a conversation holding a message that references ``file``:
    the private pair of the message, or the current members of its (normal) group."""
    return Message.objects.filter(
        Q(sender=user)
        | Q(to_user=user)
        | Q(group__memberships__user=user, group__status=Group.Status.NORMAL),
        file=file,
    ).exists()


def file_get_readable(*, user: User, file_id: uuid.UUID | str) -> File:
    """An unexpired file ``user`` may download and inspect; anything else is a 40004."""
    file = unexpired_file_or_none(file_id)
    if file is None or (file.user_id != user.pk and not file_is_shared_with(user=user, file=file)):
        raise AppError(ErrorCode.NOT_FOUND, FILE_NOT_FOUND)
    return file


def file_get_for_message(*, user: User, file_id: uuid.UUID | str) -> File:
    """The sender's own unexpired upload for a message of type 1-4; anything else is a 40000."""
    file = unexpired_file_or_none(file_id)
    if file is None or file.user_id != user.pk:
        raise bad_request(_("content must be the file_id of an unexpired file you uploaded"))
    return file


def file_list_for_user(*, user: User) -> QuerySet[File]:
    """My unexpired uploads, newest first (microsecond creation time, then id)."""
    return unexpired_files().filter(user=user).order_by("-created_at", "-pk")
