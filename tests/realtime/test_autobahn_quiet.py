"""The server process replaces autobahn's per-frame log formatting with plain helpers."""

from autobahn.websocket import protocol

import imserver.asgi  # noqa: F401  (installs it on import)


def test_frame_log_arguments_are_plain_and_cheap():
    assert protocol.hltype(protocol.WebSocketProtocol.sendData) == "<WebSocketProtocol.sendData>"
    assert protocol.hlval(1234) == 1234
    assert "\x1b" not in protocol.hltype(protocol.WebSocketProtocol)
