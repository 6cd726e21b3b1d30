"""File names: the display name a client sent, made safe; the storage name, never the client's."""

import unicodedata
import uuid
from pathlib import PurePosixPath

MAX_FILE_NAME_LENGTH = 255
DEFAULT_FILE_NAME = "file"
# Control, format (bidi overrides, zero-width), line/paragraph separators, unassigned, surrogates.
_UNSAFE_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Cn", "Cs", "Co"}


def sanitize_file_name(raw: str | None) -> str:
    """The base name only: no path parts, no control characters, at most 255 characters.

    The extension survives truncation (``"<long>.pdf"`` stays a ``.pdf``).
    """
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(" " if ch.isspace() else ch for ch in name)
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _UNSAFE_CATEGORIES)
    name = " ".join(name.split())
    if name in {"", ".", ".."}:
        return DEFAULT_FILE_NAME
    if len(name) > MAX_FILE_NAME_LENGTH:
        suffix = PurePosixPath(name).suffix
        if len(suffix) > 16:
            suffix = ""
        name = name[: MAX_FILE_NAME_LENGTH - len(suffix)].rstrip() + suffix
    return name


def storage_name_for(file_id: uuid.UUID) -> str:
    """``files/ab/<uuid>``: two-character fan-out keeps local folders small."""
    return f"files/{file_id.hex[:2]}/{file_id}"


def ascii_fallback_name(name: str) -> str:
    """A plain-ASCII stand-in for old clients' ``filename=`` (accents dropped, the rest ``_``)."""
    chars = []
    for ch in unicodedata.normalize("NFKD", name):
        if unicodedata.combining(ch):
            continue
        chars.append(ch if " " <= ch <= "~" and ch not in '"\\' else "_")
    fallback = "".join(chars)
    path = PurePosixPath(fallback)
    if not any(ch.isalnum() for ch in path.stem):
        return DEFAULT_FILE_NAME + path.suffix
    return fallback
