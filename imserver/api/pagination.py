"""Optional ``page`` / ``page_size`` for lists that can grow without bound (CONTRACT 1)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from rest_framework import serializers
from rest_framework.request import Request

from imserver.api.fields import IdField

_M = TypeVar("_M", bound=Model)


@dataclass(frozen=True)
class Page:
    offset: int
    limit: int

    def slice(self, queryset: QuerySet[_M]) -> QuerySet[_M]:
        return queryset[self.offset : self.offset + self.limit]


def page_from_request(request: Request, *, default_size: int = 100, max_size: int = 500) -> Page:
    """Read and validate ``page`` (1-based) and ``page_size``; bad values are a 40000."""

    class PageSerializer(serializers.Serializer[Any]):
        page = IdField(required=False, default=1, max_value=10**9)
        page_size = serializers.IntegerField(
            required=False, default=default_size, min_value=1, max_value=max_size
        )

    params = PageSerializer(data=request.query_params)
    params.is_valid(raise_exception=True)
    page, size = params.validated_data["page"], params.validated_data["page_size"]
    return Page(offset=(page - 1) * size, limit=size)


def listed_page(
    request: Request,
    read: Callable[..., tuple[list[Any], int]],
    *,
    key: str,
    serializer: type[serializers.BaseSerializer[Any]],
) -> dict[str, Any]:
    """``{key: [the page's objects], "total": n}`` for a ``read(offset=, limit=)`` that returns
    one page of rows and the total (the lists that mark what they show as read)."""
    page = page_from_request(request)
    rows, total = read(offset=page.offset, limit=page.limit)
    return {key: serializer(rows, many=True).data, "total": total}
