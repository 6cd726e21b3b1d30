"""One value per event loop: tests run several loops in one process, and an asyncio object
(a Redis client, a task registry) belongs to the loop it was made on."""

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class PerLoop(Generic[T]):
    """``make()`` for the running event loop, made once per loop; the values of closed loops
    are dropped when the next one is made."""

    def __init__(self, make: Callable[[], T]) -> None:
        self.make = make
        self.by_loop: dict[asyncio.AbstractEventLoop, T] = {}

    def get(self) -> T:
        loop = asyncio.get_running_loop()
        value = self.by_loop.get(loop)
        if value is None:
            for stale in [other for other in self.by_loop if other.is_closed()]:
                del self.by_loop[stale]
            value = self.by_loop[loop] = self.make()
        return value

    def current(self) -> T | None:
        """The running loop's value if it was made; None outside a loop too."""
        try:
            return self.by_loop.get(asyncio.get_running_loop())
        except RuntimeError:
            return None
