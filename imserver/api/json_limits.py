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
    """The client's JSON breaks one of the rules; ``reason`` says which (not translated).

    ``field`` is the path of the string that holds a lone surrogate (``chat_type``,
    ``user_ids[2]``, ``a.b``) when it is a value; None for a key or for the other reasons.
    """

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


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
                raise JsonRefused(BAD_UNICODE, surrogate_field(value))
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


def surrogate_field(value: Any) -> str | None:
    """The path of the first string value holding a lone surrogate; None when it is a key or
    lies deeper than ``MAX_JSON_DEPTH`` (such a value is refused as a whole).

    Walked only once a surrogate was found, so accepted input never pays for building paths.
    """
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            if _has_surrogate(item):
                return path or None
        elif isinstance(item, dict | list) and depth <= MAX_JSON_DEPTH:
            if isinstance(item, dict):
                children = []
                for key, child in item.items():
                    if _has_surrogate(key):
                        return None
                    children.append((child, f"{path}.{key}" if path else key, depth + 1))
            else:
                children = [(child, f"{path}[{i}]", depth + 1) for i, child in enumerate(item)]
            stack.extend(reversed(children))
    return None


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
