"""What ``/ws`` knows of the domain apps: the client frames they handle and who hears that a user
came online or went offline. Each app registers its own from its ``AppConfig.ready()``, so the
consumer names no app.
"""

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured

# Frames the consumer answers itself.
CONSUMER_FRAMES = frozenset({"ping", "auth"})


class FrameSocket(Protocol):
    """What a frame handler may do with the socket its frame came in on."""

    async def call(self, function: Callable[..., Any], data: dict[str, Any], **echo: Any) -> Any:
        """``function(user, data)`` on a lane in the client's language; a refusal
        (``APIException``) or a failure becomes an ``error`` frame carrying ``echo``, and None
        is returned."""
        ...

    async def run(self, function: Callable[..., Any], data: Any) -> Any:
        """``function(user, data)`` on a lane in the client's language; raises what it raised."""
        ...

    async def refuse(self, error: Exception, **echo: Any) -> None:
        """The ``error`` frame, carrying ``echo``, for what refused a frame (a failure that is no
        refusal is logged and answered as an internal error)."""
        ...

    async def send_frame(self, frame_type: str, data: dict[str, Any]) -> None: ...


FrameHandler = Callable[[FrameSocket, dict[str, Any]], Awaitable[None]]
# Consecutive frames of one type from one socket, in order (``register_frame(batch=...)``).
BatchHandler = Callable[[FrameSocket, list[dict[str, Any]]], Awaitable[None]]


@dataclass(frozen=True)
class Frame:
    handler: FrameHandler
    # Frames of this type a socket may send per second (burst as many); beyond it they are
    # dropped without an answer. Read when a socket sends its first such frame.
    per_second: Callable[[], int] | None = None
    # Handles several consecutive frames of this type at once, when the socket has sent them
    # before the first was handled (the consumer reads ahead while it handles a frame).
    batch: BatchHandler | None = None


_frames: dict[str, Frame] = {}
_presence_audiences: list[Callable[[int], Iterable[int]]] = []


def register_frame(
    frame_type: str,
    handler: FrameHandler,
    *,
    per_second: Callable[[], int] | None = None,
    batch: BatchHandler | None = None,
) -> None:
    """Client frames ``{"type": frame_type, "data": {...}}`` go to ``handler(socket, data)``;
    ``data`` is an object (``{}`` when absent)."""
    taken = _frames.get(frame_type)
    if taken is not None and taken.handler is handler:
        return
    if frame_type in CONSUMER_FRAMES or taken is not None:
        raise ImproperlyConfigured(f"the /ws frame type {frame_type!r} is taken")
    _frames[frame_type] = Frame(handler, per_second, batch)


def registered_frame(frame_type: str) -> Frame | None:
    return _frames.get(frame_type)


def register_presence_audience(audience: Callable[[int], Iterable[int]]) -> None:
    """``audience(user_id)``: the users who may see ``user_id``'s presence (runs on a lane). A
    user's ``presence`` push goes to those of every registered audience who are online."""
    if audience not in _presence_audiences:
        _presence_audiences.append(audience)


def presence_audience(user_id: int) -> set[int]:
    return {member for audience in _presence_audiences for member in audience(user_id)}
