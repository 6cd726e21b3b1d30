"""What a client's JSON may be (CONTRACT 12): valid UTF-8, at most ``MAX_JSON_DEPTH`` levels of
nesting (the outer value is level 1; each array or object inside adds one), and no lone
surrogate in any string or key.

A lone surrogate (``"\\ud800"``) decodes to a Python string that cannot be encoded back to
UTF-8: echoed in an error message or stored, it fails far from the input that caused it.
Nesting is refused here so that no deeper code ever recurses over client data.
"""

import json
import re
from typing import Any

MAX_JSON_DEPTH = 32

_SURROGATE = re.compile("[\ud800-\udfff]")


class JsonRefused(ValueError):
    """The client's JSON breaks one of the rules; ``reason`` says which (not translated)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


MALFORMED = "malformed JSON"
TOO_DEEP = "nested too deeply"
BAD_UNICODE = "invalid Unicode"


def _has_surrogate(text: str) -> bool:
    return not text.isascii() and _SURROGATE.search(text) is not None


def check_json_value(value: Any) -> None:
    """Raise ``JsonRefused`` if a parsed JSON value nests too deeply or holds a lone surrogate."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if _has_surrogate(item):
                raise JsonRefused(BAD_UNICODE)
        elif isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise JsonRefused(TOO_DEEP)
            if isinstance(item, dict):
                for key, child in item.items():
                    if _has_surrogate(key):
                        raise JsonRefused(BAD_UNICODE)
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)


def loads_checked(raw: str | bytes) -> Any:
    """``json.loads`` that raises ``JsonRefused`` for anything the rules above refuse."""
    try:
        value = json.loads(raw)
    except RecursionError:  # the parser's own recursion limit, far beyond MAX_JSON_DEPTH
        raise JsonRefused(TOO_DEEP) from None
    except UnicodeDecodeError:
        raise JsonRefused(BAD_UNICODE) from None
    except ValueError:
        raise JsonRefused(MALFORMED) from None
    check_json_value(value)
    return value
