from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class FileIdSerializer(serializers.Serializer):
    file_id = serializers.UUIDField(
        error_messages={"invalid": _("must be a file id (a UUID)")},
    )


class UploadInputSerializer(serializers.Serializer):
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
