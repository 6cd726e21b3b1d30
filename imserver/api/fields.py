"""Serializer fields shared by every app."""

import re
import unicodedata
from datetime import datetime
from typing import Any

from rest_framework import serializers


class UnixTimestampField(serializers.Field[datetime, Any, int | None, Any]):
    """An aware datetime shown as integer unix seconds (read-only at the API edge)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value: datetime | None) -> int | None:
        return int(value.timestamp()) if value is not None else None


class TrimmedCharField(serializers.CharField):
    """CharField that trims, so an all-blank required string counts as missing."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", True)
        super().__init__(**kwargs)


# What a name shown to other people must not hold: bidi embeddings, overrides, isolates and marks
# (they reorder the text around them: "\u202egnp.exe" reads as "exe.png"), zero-width spaces,
# word joiners and byte-order marks (invisible look-alikes of another name), control characters
# and line or paragraph separators. Zero-width joiner and non-joiner stay: emoji sequences and
# scripts such as Persian and the Indic ones need them.
_INVISIBLE = re.compile(
    "[\u0000-\u001f\u007f-\u009f\u061c\u180e\u200b\u200e\u200f\u2028-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]"
)

_WHITESPACE = re.compile(r"\s")


def clean_display_name(value: str) -> str:
    """NFC, the characters above removed, runs of whitespace one space, trimmed."""
    value = _WHITESPACE.sub(" ", unicodedata.normalize("NFC", value))
    return " ".join(_INVISIBLE.sub("", value).split())


class DisplayNameField(TrimmedCharField):
    """A name other users see (nickname, group name, remark): cleaned with
    ``clean_display_name`` before its length is checked; one that is empty once cleaned is
    blank."""

    def to_internal_value(self, data: Any) -> str:
        value = clean_display_name(super().to_internal_value(data))
        if not value and not self.allow_blank:
            self.fail("blank")
        return value


class IdField(serializers.IntegerField):
    """A positive database id; numeric strings such as ``"5"`` are accepted (ASCII digits only:
    Python's ``int`` would also read full-width or Arabic-Indic digits)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(**kwargs)

    def to_internal_value(self, data: float | int | str) -> int:
        if isinstance(data, str) and not data.strip().isascii():
            self.fail("invalid")
        return super().to_internal_value(data)
