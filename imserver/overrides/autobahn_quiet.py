"""Autobahn (daphne's WebSocket layer) formats the arguments of its debug log calls for every
frame it writes, whether debug logging is on or not (qualified names, and ``click`` colours when
click is installed, as the dev requirements do). Its protocol module gets plain versions of the
two helpers instead; debug logs, if turned on, still name the function and the values.
"""

from typing import Any

from imserver.overrides.gate import Calls, Override

_HLTYPE_CALLS = Calls()
_HLVAL_CALLS = Calls()


def _plain_type(obj: Any) -> str:
    _HLTYPE_CALLS.count += 1
    return f"<{getattr(obj, '__qualname__', type(obj).__qualname__)}>"


def _plain_value(value: Any, color: str = "white", bold: bool = True) -> Any:
    _HLVAL_CALLS.count += 1
    return value


def _patch() -> None:
    from autobahn.websocket import protocol

    # Through the module's namespace: the helpers are imported there from autobahn.util, not
    # exported, so a type checker knows no such attributes of the module.
    vars(protocol).update(hltype=_plain_type, hlval=_plain_value)


OVERRIDE = Override(
    "autobahn_quiet",
    servers=("daphne",),
    written_for={"autobahn": "26.10.2"},
    needs=("autobahn.websocket.protocol:hltype", "autobahn.websocket.protocol:hlval"),
    patch=_patch,
    hooks={"protocol.hltype": _HLTYPE_CALLS, "protocol.hlval": _HLVAL_CALLS},
)
