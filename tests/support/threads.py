"""Real threads for race tests: start work on its own database connection, wait for a state."""

import threading
import time
from collections.abc import Callable

from django.db import connection


def start_thread(work: Callable[[], object]) -> tuple[threading.Thread, dict[str, object]]:
    """Run ``work`` in a new thread; its ``result`` or ``error`` lands in the returned dict.
    The thread's database connection is closed when it ends."""
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["result"] = work()
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    return thread, outcome


def wait_for(condition: Callable[[], bool], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)
