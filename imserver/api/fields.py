"""Serializer fields shared by every app."""

from datetime import datetime

from rest_framework import serializers


class UnixTimestampField(serializers.Field):
    """An aware datetime shown as integer unix seconds (read-only at the API edge)."""

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value: datetime | None) -> int | None:
        return int(value.timestamp()) if value is not None else None


class TrimmedCharField(serializers.CharField):
    """CharField that trims, so an all-blank required string counts as missing."""

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("trim_whitespace", True)
        super().__init__(**kwargs)


class IdField(serializers.IntegerField):
    """A positive database id; numeric strings such as ``"5"`` are accepted (ASCII digits only:
    Python's ``int`` would also read full-width or Arabic-Indic digits)."""

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(**kwargs)

    def to_internal_value(self, data: object) -> int:
        if isinstance(data, str) and not data.strip().isascii():
            self.fail("invalid")
        return super().to_internal_value(data)
