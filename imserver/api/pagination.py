"""Optional ``page`` / ``page_size`` for lists that can grow without bound (CONTRACT 1)."""

from dataclasses import dataclass

from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework.request import Request

from imserver.api.fields import IdField


@dataclass(frozen=True)
class Page:
    offset: int
    limit: int

    def slice(self, queryset: QuerySet) -> QuerySet:
        return queryset[self.offset : self.offset + self.limit]


def page_from_request(request: Request, *, default_size: int = 100, max_size: int = 500) -> Page:
    """Read and validate ``page`` (1-based) and ``page_size``; bad values are a 40000."""

    class PageSerializer(serializers.Serializer):
        page = IdField(required=False, default=1, max_value=10**9)
        page_size = serializers.IntegerField(
            required=False, default=default_size, min_value=1, max_value=max_size
        )

    params = PageSerializer(data=request.query_params)
    params.is_valid(raise_exception=True)
    page, size = params.validated_data["page"], params.validated_data["page_size"]
    return Page(offset=(page - 1) * size, limit=size)
