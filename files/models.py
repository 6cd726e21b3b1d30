"""Uploaded files (CONTRACT 8). The bytes live in the default storage under ``storage_name``."""

import uuid

from django.conf import settings
from django.db import models


class FileType(models.TextChoices):
    IMAGE = "image", "image"
    VIDEO = "video", "video"
    AUDIO = "audio", "audio"
    FILE = "file", "file"


class File(models.Model):
    # The primary key is the public ``file_id``: a random UUID, so ids cannot be guessed.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="files"
    )
    file_name = models.CharField(max_length=255)
    file_size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=255)
    file_type = models.CharField(max_length=8, choices=FileType.choices)
    etag = models.CharField(max_length=32)
    # Never the user's file name: derived from the UUID (see services.storage_name_for).
    storage_name = models.CharField(max_length=512, unique=True)
    # Microsecond precision: "newest first" never depends on whole seconds.
    created_at = models.DateTimeField(db_index=True)
    expire_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["user", "-created_at"], name="files_user_newest_idx")]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.id})"
