"""OpenAPI 3 with drf-spectacular: the envelope, the errors, the schema and docs views.

Views describe only what is theirs, with ``@extend_schema``: the request serializer (a JSON
body), the query serializer (``parameters=[...]``) and ``responses=responses(DataSerializer,
404, 409)``: the ``data`` of a success and the error statuses particular to the operation.
:class:`EnvelopeAutoSchema` then wraps every JSON success in ``{code, message, data}`` and adds
the errors any operation can answer (400 when it takes input, 401 when it needs a token, 429,
500), all as the ``ErrorEnvelope``.
"""

from collections.abc import Iterable
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent, is_list_serializer
from drf_spectacular.utils import Direction, OpenApiParameter, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from imserver.api.errors import ErrorCode
from imserver.api.renderers import SUCCESS_MESSAGE

ERROR_ENVELOPE = "ErrorEnvelope"
ERROR_REF = {"$ref": f"#/components/schemas/{ERROR_ENVELOPE}"}

# What each HTTP status means in this API (CONTRACT 1).
ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "40000: bad parameter; the message names the field",
    401: "40001: no, invalid, expired or revoked token (or wrong login credentials)",
    403: "40003: not allowed (banned, not a member, not the owner, muted, blocked...)",
    404: "40004: the thing does not exist, or the caller may not know it exists",
    409: "40009: conflict (duplicate, already friends, already a member, already handled)",
    413: "40000: the upload is larger than the limit",
    416: "40000: the requested range is not satisfiable",
    429: "42900: rate limited (see Retry-After)",
    500: "50000: unexpected error; `request_id` is also in the X-Request-ID header and the log",
    503: "50001: a backing service (channel layer, object storage) failed",
}

_ERROR_ENVELOPE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The failure envelope of every error.",
    "properties": {
        "code": {
            "type": "integer",
            "enum": [int(code) for code in ErrorCode if code != ErrorCode.SUCCESS],
        },
        "message": {"type": "string", "description": "Human readable; names the field."},
        "request_id": {"type": "string", "description": "Only on 50000."},
    },
    "required": ["code", "message"],
}


# The multipart body of ``POST /file/upload``.
UPLOAD_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {"file": {"type": "string", "format": "binary"}},
    "required": ["file"],
}


def responses(
    data: Any, *error_statuses: int, error_data: Any = None, **described: str
) -> dict[Any, Any]:
    """``responses=`` of ``@extend_schema``: the ``data`` of a 200 and the particular errors.

    ``error_data`` (a serializer) documents a ``data`` member on those errors (``/healthz``).
    """
    result: dict[Any, Any] = {200: data}
    for status in error_statuses:
        result[status] = ErrorResponse(status, data=error_data)
    return result


class ErrorResponse(dict[str, Any]):
    """A raw response schema marker, turned into the error envelope by the auto schema."""

    def __init__(self, status: int, *, data: Any = None) -> None:
        super().__init__(ERROR_REF)
        self.status = status
        self.data = data


def listing(
    name: str, key: str, item: type[serializers.Serializer[Any]]
) -> serializers.Serializer[Any]:
    """A list endpoint's ``data``: ``{<key>: [item, ...], "total": n}``, component ``name``."""
    return inline_serializer(
        name, fields={key: item(many=True), "total": serializers.IntegerField()}
    )


def page_parameters(*, default: int = 100, maximum: int = 500) -> list[OpenApiParameter]:
    """The optional ``page`` / ``page_size`` of growing lists (CONTRACT 1)."""
    return [
        OpenApiParameter(
            "page",
            {"type": "integer", "minimum": 1, "maximum": 10**9},
            description="1-based page number (default 1)",
        ),
        OpenApiParameter(
            "page_size",
            {"type": "integer", "minimum": 1, "maximum": maximum},
            description=f"items per page (default {default}, at most {maximum})",
        ),
    ]


class UnixTimestampFieldExtension(OpenApiSerializerFieldExtension):
    """``imserver.api.fields.UnixTimestampField``: integer unix seconds."""

    target_class = "imserver.api.fields.UnixTimestampField"

    def map_serializer_field(self, auto_schema: AutoSchema, direction: str) -> dict[str, Any]:
        return {"type": "integer", "format": "int64", "description": "unix seconds"}


class ConfirmationSerializer(serializers.Serializer[Any]):
    """``data`` of the operations that only confirm: ``{"message": "注册成功"}``."""

    message = serializers.CharField()


class EnvelopeAutoSchema(AutoSchema):
    """Wraps JSON successes in the success envelope and adds the common error responses."""

    def _is_list_view(self, serializer: Any = None) -> bool:
        """Only an explicit ``many=True`` serializer is a list: our ``list`` actions answer an
        object (``{"friends": [...], "total": n}``), never a bare array because of their name."""
        if serializer is None:
            serializer = self.get_response_serializers()
        if isinstance(serializer, dict) and serializer:
            serializer = {str(code): s for code, s in serializer.items()}
            serializer = serializer[min(serializer)]
        return is_list_serializer(serializer)

    def get_operation_id(self) -> str:
        """The path itself: ``/notification/request/friend/unread-count`` ->
        ``notification_request_friend_unread_count`` (every path has one method)."""
        return "_".join(token.replace("-", "_") for token in self._tokenize_path()) or "root"

    def _get_serializer_field_meta(self, field: Any, direction: str) -> dict[str, Any]:
        """No titles from verbose names; no model help texts (Django's ``username`` help
        describes the admin's rules, not the API's)."""
        meta: dict[str, Any] = super()._get_serializer_field_meta(field, direction)
        meta.pop("title", None)
        parent = getattr(field, "parent", None)
        if isinstance(parent, serializers.ModelSerializer) and field.field_name not in getattr(
            type(parent), "_declared_fields", {}
        ):
            meta.pop("description", None)
        return meta

    def _insert_field_validators(self, field: Any, schema: dict[str, Any]) -> None:
        """Output strings are shown as stored: an avatar or email may be ``""``, so no
        ``uri`` / ``email`` format on read-only fields."""
        super()._insert_field_validators(field, schema)
        if getattr(field, "read_only", False) and schema.get("format") in ("uri", "email"):
            del schema["format"]

    def _get_response_bodies(self, direction: Direction = "response") -> dict[str, Any]:
        result = super()._get_response_bodies(direction)
        self.registry.register_on_missing(
            ResolvedComponent(
                name=ERROR_ENVELOPE,
                type=ResolvedComponent.SCHEMA,
                schema=_ERROR_ENVELOPE_SCHEMA,
                object=ERROR_ENVELOPE,
            )
        )
        overrides = self.get_response_serializers()
        pairs: Iterable[tuple[Any, Any]] = overrides.items() if isinstance(overrides, dict) else ()
        markers = {
            str(status): marker for status, marker in pairs if isinstance(marker, ErrorResponse)
        }
        for status, response in result.items():
            if status.startswith("2"):
                response["description"] = response.get("description") or "success"
                for media_type, content in response.get("content", {}).items():
                    if media_type == "application/json":
                        content["schema"] = self._success_envelope(content["schema"])
            elif status in markers:
                self._fill_error(response, int(status), markers[status].data, direction)
        for error_status in self._common_error_statuses():
            if str(error_status) not in result:
                result[str(error_status)] = {}
                self._fill_error(result[str(error_status)], error_status, None, direction)
        return dict(sorted(result.items()))

    def _common_error_statuses(self) -> list[int]:
        statuses = [429, 500]
        takes_input = self.method in ("POST", "PUT", "PATCH") or bool(self._get_parameters())
        if takes_input:
            statuses.append(400)
        if not any(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            statuses.append(401)
        return statuses

    def _fill_error(
        self, response: dict[str, Any], status: int, data: Any, direction: Direction
    ) -> None:
        schema: dict[str, Any] = ERROR_REF
        if data is not None:
            data_schema = self.resolve_serializer(data, direction).ref
            schema = {
                "allOf": [
                    ERROR_REF,
                    {
                        "type": "object",
                        "properties": {"data": data_schema},
                        "required": ["data"],
                    },
                ]
            }
        response.clear()
        response["description"] = ERROR_DESCRIPTIONS.get(status, "error")
        response["content"] = {"application/json": {"schema": schema}}

    def _success_envelope(self, data_schema: dict[str, Any]) -> dict[str, Any]:
        name = self._envelope_name(data_schema)
        component = ResolvedComponent(
            name=name,
            type=ResolvedComponent.SCHEMA,
            object=name,
            schema={
                "type": "object",
                "properties": {
                    "code": {"type": "integer", "enum": [int(ErrorCode.SUCCESS)]},
                    "message": {"type": "string", "enum": [SUCCESS_MESSAGE]},
                    "data": data_schema,
                },
                "required": ["code", "message", "data"],
            },
        )
        self.registry.register_on_missing(component)
        return component.ref

    def _envelope_name(self, data_schema: dict[str, Any]) -> str:
        ref = data_schema.get("$ref")
        if ref:
            return f"{ref.rsplit('/', 1)[-1]}Envelope"
        items_ref = data_schema.get("items", {}).get("$ref")
        if data_schema.get("type") == "array" and items_ref:
            return f"{items_ref.rsplit('/', 1)[-1]}ListEnvelope"
        camel = "".join(part.capitalize() for part in self.get_operation_id().split("_"))
        return f"{camel}Envelope"


# Tags group the operations as API.md's sections do: by the path's first segment, unless an app
# tagged that segment otherwise (``tag_paths``).
_tag_by_first_segment: dict[str, str] = {"healthz": "operations"}


def tag_paths(tag: str, *first_segments: str) -> None:
    """Operations whose path starts with one of ``first_segments`` are tagged ``tag``; an app
    calls it from its ``openapi`` module (``/login`` under "auth")."""
    for segment in first_segments:
        _tag_by_first_segment[segment] = tag


def postprocess_schema(
    result: dict[str, Any], generator: SchemaGenerator, **kwargs: Any
) -> dict[str, Any]:
    """Tags by API.md section; the bearer scheme described for humans."""
    for path, operations in result.get("paths", {}).items():
        first = path.strip("/").split("/", 1)[0]
        for operation in operations.values():
            operation["tags"] = [_tag_by_first_segment.get(first, first)]
    for scheme in result.get("components", {}).get("securitySchemes", {}).values():
        scheme["description"] = "The access_token of POST /login: `Authorization: Bearer <token>`"
    _nullable_refs_as_any_of(result)
    return result


def _nullable_refs_as_any_of(node: Any) -> None:
    """``{"allOf": [ref], "nullable": true}`` (a nested ``allow_null`` serializer) does not
    admit ``null`` in OpenAPI 3.0, where ``nullable`` only widens a ``type`` beside it: write it
    as ``anyOf: [ref, {"enum": [null]}]``, which validators and client generators agree on."""
    if isinstance(node, dict):
        if node.get("nullable") is True and len(node.get("allOf", ())) == 1:
            node["anyOf"] = [node.pop("allOf")[0], {"enum": [None]}]
            del node["nullable"]
        for value in node.values():
            _nullable_refs_as_any_of(value)
    elif isinstance(node, list):
        for value in node:
            _nullable_refs_as_any_of(value)
