"""Autobahn (daphne's WebSocket layer) formats the arguments of its debug log calls for every
frame it writes, whether debug logging is on or not (qualified names, and ``click`` colours when
click is installed, as the dev requirements do): in the 500-member fan-out profile that was about
8% of the server's Python time (docs/benchmarks). Its protocol module gets plain versions of the
two helpers instead; debug logs, if turned on, still name the function and the values.
"""

from typing import Any


def _plain_type(obj: Any) -> str:
    return f"<{getattr(obj, '__qualname__', type(obj).__qualname__)}>"


def _plain_value(value: Any, color: str = "white", bold: bool = True) -> Any:
    return value


def install() -> None:
    from autobahn.websocket import protocol

    protocol.hltype = _plain_type
    protocol.hlval = _plain_value
