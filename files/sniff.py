"""What an upload is, judged from its bytes only (never from the client's name or header)."""

import codecs
import re

import filetype

from files.models import FileType

# filetype looks at most at the first 8192 bytes.
HEAD_BYTES = 8192
OCTET_STREAM = "application/octet-stream"
TEXT_PLAIN = "text/plain"

# C0 controls other than tab, line feed, form feed, carriage return and escape mean "binary".
_BINARY_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")


class TextDetector:
    """Decides, chunk by chunk, whether a whole stream is UTF-8 text (stops once it is not)."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self.is_text = True

    def feed(self, chunk: bytes, *, final: bool = False) -> None:
        if not self.is_text:
            return
        try:
            text = self._decoder.decode(chunk, final)
        except UnicodeDecodeError:
            self.is_text = False
            return
        if _BINARY_CONTROL.search(text):
            self.is_text = False

    def finish(self) -> bool:
        self.feed(b"", final=True)
        return self.is_text


def sniff_content_type(head: bytes, *, is_text: bool) -> str:
    """The MIME type of content starting with ``head``; ``is_text`` covers the whole content."""
    kind = filetype.guess(head[:HEAD_BYTES]) if head else None
    if kind is not None:
        mime: str = kind.mime  # filetype ships no types
        return mime
    if is_text:
        return TEXT_PLAIN
    return OCTET_STREAM


def file_type_for(content_type: str) -> FileType:
    major = content_type.split("/", 1)[0]
    return {
        "image": FileType.IMAGE,
        "video": FileType.VIDEO,
        "audio": FileType.AUDIO,
    }.get(major, FileType.FILE)
