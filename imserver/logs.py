"""What a server process prints: every line through Python logging, on stderr, in the format of
``LOG_FORMAT`` (``settings.LOGGING``; docs/deployment.md "Logs").

- A ``/ws`` connection's lines carry ``connection_id`` (short and random, made when its
  handshake arrives) and ``user_id`` (None until its token is read): the connection binds a
  ``SocketLog`` in its task (``socket_log_bound``); tasks it starts and the lanes it calls
  (``run_sync`` copies the context) see the same one, and ``SocketLogFilter`` copies both onto
  every record written there.
- ``log_uncaught_exceptions``: an exception nothing caught, in any thread, is a log line.
- ``twisted_to_logging``: Twisted's log (the reactor's errors, Autobahn's, warnings) goes to
  Python loggers named after its namespaces; daphne alone sends it nowhere.
- ``configure_logging_from_settings``: ``settings.LOGGING`` in a process that does not set Django
  up (the supervisor of ``imserver.serve``).
"""

import logging
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, cast

access_logger = logging.getLogger("imserver.access")
uncaught_logger = logging.getLogger("imserver.uncaught")


def _connection_id() -> str:
    return secrets.token_hex(4)


@dataclass
class SocketLog:
    """What the log lines of one ``/ws`` connection carry; ``path`` and ``started`` time the
    handshake's access line."""

    path: str = ""
    connection_id: str = field(default_factory=_connection_id)
    user_id: int | None = None
    started: float = field(default_factory=time.monotonic)


_socket_log: ContextVar[SocketLog | None] = ContextVar("socket_log", default=None)


def current_socket_log() -> SocketLog | None:
    return _socket_log.get()


@contextmanager
def socket_log_bound(path: str = "") -> Iterator[SocketLog]:
    """The connection's ``SocketLog``: the one an outer layer of the same connection bound, or
    a new one bound for the time of the block."""
    bound = _socket_log.get()
    if bound is not None:
        yield bound
        return
    socket_log = SocketLog(path=path)
    token = _socket_log.set(socket_log)
    try:
        yield socket_log
    finally:
        _socket_log.reset(token)


class SocketLogFilter(logging.Filter):
    """``connection_id`` and ``user_id`` on the records written for a ``/ws`` connection; other
    records get neither."""

    def filter(self, record: logging.LogRecord) -> bool:
        socket_log = _socket_log.get()
        if socket_log is not None:
            record.connection_id = socket_log.connection_id
            record.user_id = socket_log.user_id
        return True


def log_handshake(status: int, refused: str = "") -> None:
    """The access line of the bound connection's handshake, as an HTTP request's: ``GET /ws
    101`` when the socket was accepted, ``403`` and why when it was refused before that."""
    socket_log = _socket_log.get()
    if socket_log is None:
        return
    duration_ms = round((time.monotonic() - socket_log.started) * 1000, 1)
    extra: dict[str, object] = {
        "method": "GET",
        "path": socket_log.path,
        "status": status,
        "duration_ms": duration_ms,
    }
    if refused:
        extra["refused"] = refused
    access_logger.info(
        "GET %s %s %.1fms%s",
        socket_log.path,
        status,
        duration_ms,
        f" ({refused})" if refused else "",
        extra=extra,
    )


def log_uncaught_exceptions() -> None:
    """An exception that ends the main thread or another thread is logged with its traceback
    (``imserver.uncaught``), not printed bare on stderr. Before logging has a handler (settings
    that fail to load) Python's own output stays: there is no format to follow yet."""

    def main_thread_hook(
        kind: type[BaseException], value: BaseException, traceback: TracebackType | None
    ) -> None:
        if not logging.getLogger().handlers or issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, value, traceback)
            return
        uncaught_logger.critical("uncaught exception", exc_info=(kind, value, traceback))

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if not logging.getLogger().handlers:
            threading.__excepthook__(args)
            return
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else "?"
        if args.exc_value is None:
            uncaught_logger.error("uncaught %s in thread %s", args.exc_type.__name__, name)
            return
        uncaught_logger.error(
            "uncaught exception in thread %s",
            name,
            exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
        )

    sys.excepthook = main_thread_hook
    threading.excepthook = thread_hook


class _TwistedToLogging:
    """A Twisted log observer: each event to the Python logger named after its namespace
    (``twisted.internet...``, ``autobahn...``), at its level, with its failure's traceback.
    Twisted's own access log (``HTTPFactory`` writes each request to the legacy log file) is
    dropped: the application writes one line per request (``imserver.access``)."""

    def __init__(self) -> None:
        self._observers: dict[str, Callable[[dict[str, Any]], None]] = {}

    def __call__(self, event: dict[str, Any]) -> None:
        namespace = event.get("log_namespace") or "twisted"
        if namespace == "twisted.python.log" and "log_io" in event:
            return
        if namespace == "log_legacy":  # Twisted's older log.msg() calls
            namespace = "twisted"
        elif "warning" in event and namespace == "twisted.logger._global":
            # Once daphne begins Twisted's logging, Twisted shows Python's warnings.
            namespace = "py.warnings"
        observer = self._observers.get(namespace)
        if observer is None:
            from twisted.logger import STDLibLogObserver

            observer = self._observers[namespace] = STDLibLogObserver(namespace)
        observer(event)


def twisted_to_logging() -> None:
    """Twisted's log events to Python logging. Daphne (verbosity 1 or less) adds an observer
    that drops them; this one is added to the same publisher beside it."""
    from twisted.logger import ILogObserver, globalLogPublisher

    # Any callable observes; the interface is only declared for the type checker.
    globalLogPublisher.addObserver(cast(ILogObserver, _TwistedToLogging()))


def configure_logging_from_settings() -> None:
    """``settings.LOGGING`` (and warnings to logging) without setting Django up."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imserver.settings")
    from django.conf import settings
    from django.utils.log import configure_logging

    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
