"""The success envelope: every non-error response body becomes ``{code, message, data}``."""

from collections.abc import Mapping
from typing import Any

from rest_framework.renderers import JSONRenderer

from imserver.api.errors import ErrorCode

SUCCESS_MESSAGE = "success"


class EnvelopeJSONRenderer(JSONRenderer):
    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        response = (renderer_context or {}).get("response")
        if response is not None and not response.exception and response.status_code < 400:
            data = {"code": int(ErrorCode.SUCCESS), "message": SUCCESS_MESSAGE, "data": data}
        return super().render(data, accepted_media_type, renderer_context)
