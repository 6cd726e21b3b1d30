"""Schema-only serializers: the shapes of ``data`` that the views build as plain dicts.

They document responses in the OpenAPI schema (``/api/schema``); nothing serializes with them.
"""

from typing import Any

from rest_framework import serializers

from files.models import FileType
from imserver.api.schema import listing


class FileDataSerializer(serializers.Serializer[Any]):
    """The file object of API.md 7.4 (``files.selectors.file_data``)."""

    file_id = serializers.UUIDField()
    file_name = serializers.CharField()
    file_size = serializers.IntegerField()
    content_type = serializers.CharField(help_text="sniffed from the bytes")
    user_id = serializers.IntegerField(help_text="the uploader")
    created_at = serializers.IntegerField(help_text="unix seconds")
    expire_at = serializers.IntegerField(help_text="unix seconds")
    etag = serializers.CharField(help_text="MD5 hex of the bytes")
    file_type = serializers.ChoiceField(choices=FileType.values)


FileRecordsSerializer = listing("FileRecords", "file_records", FileDataSerializer)
