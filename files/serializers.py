import uuid
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class FileIdField(serializers.UUIDField):
    """A file id as clients hold it: the UUID string (DRF would also take an integer)."""

    default_error_messages = {"invalid": _("must be a file id (a UUID)")}

    def to_internal_value(self, data: Any) -> uuid.UUID:
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data.strip())


class FileIdSerializer(serializers.Serializer[Any]):
    file_id = FileIdField()


class UploadInputSerializer(serializers.Serializer[Any]):
    file = serializers.FileField(
        allow_empty_file=False,
        use_url=False,
        error_messages={
            "required": _("a multipart field named file is required"),
            "empty": _("file is empty"),
            "invalid": _("must be a file part with a file name"),
            "no_name": _("must be a file part with a file name"),
        },
    )
