"""One uvicorn worker of ``python -m imserver.serve --server uvicorn`` (imserver/serve.py starts
it): uvloop, httptools and uvicorn's ``websockets-sansio`` WebSocket protocol, in-process on the
listening socket the worker inherited, with :func:`uvicorn_options`.

What holds as under daphne, and where:

- the body limit (413 before the body is read): imserver/api/body_guard.py, in the application;
- bounded memory: uvicorn stops reading a request body while more than 64 KiB of it waits for
  the application, and a response's ``send`` waits while the socket's buffer is full;
- frames over ``IM_WS_MAX_FRAME_BYTES`` close with 1009 (``ws_max_size``: the protocol stops at
  the frame header); sends never wait for the client and a slow one is closed with 4009 (the
  ``uvicorn_websocket`` server override);
- SIGTERM/SIGINT: the listening socket closes, sockets are closed with 1012 and their consumers
  run their cleanup, requests in flight finish, all within ``GRACEFUL_STOP_S``;
- one access line per request from the application (imserver.access): uvicorn's access log is
  off and its per-socket lines (which would carry the query string, a token) are dropped;
  uvicorn configures no logging of its own (``settings.LOGGING`` holds).

Extra uvicorn options come after ``--`` spelt as on uvicorn's command line (``--proxy-headers``,
``--forwarded-allow-ips 10.0.0.5``, ``--ws-ping-interval 20`` ...); the ones this module owns
(the socket, workers, reload, the application, logging, the frame limit) are refused.
"""

import importlib
import logging
import os
import signal
import socket
from typing import Any

from imserver import logs

logger = logging.getLogger("imserver.serve")

# Less than the supervisor waits for a worker (imserver/serve.py) before it kills it.
GRACEFUL_STOP_S = 8

# Set by this module (or meaningless for a worker); refused after ``--``.
OWNED_OPTIONS = frozenset(
    {
        "app",
        "host",
        "port",
        "uds",
        "fd",
        "reload",
        "reload_dirs",
        "reload_includes",
        "reload_excludes",
        "reload_delay",
        "workers",
        "env_file",
        "log_config",
        "access_log",
        "use_colors",
        "lifespan",
        "interface",
        "factory",
        "app_dir",
        "ws_max_size",
        "version",
        "timeout_worker_healthcheck",
    }
)


def uvicorn_options(extra_args: list[str], backlog: int) -> dict[str, Any]:
    """``uvicorn.Config`` keyword arguments: ours, then what ``extra_args`` set on uvicorn's own
    command line (only what they name: uvicorn's defaults and ``UVICORN_*`` variables do not
    count)."""
    from django.conf import settings

    options: dict[str, Any] = {
        "loop": "uvloop",
        "http": "httptools",
        "ws": "websockets-sansio",
        # Autobahn's limit under daphne, counted the same way (a message, that size accepted).
        "ws_max_size": settings.IM_WS_MAX_FRAME_BYTES,
        # The protocol has its own liveness rule: clients send ``ping`` frames and a socket
        # silent for IM_WS_IDLE_TIMEOUT_S is closed with 4008 (docs/realtime.md).
        "ws_ping_interval": None,
        "ws_ping_timeout": None,
        # As daphne: no compression, which would cost a zlib context per socket.
        "ws_per_message_deflate": False,
        # Channels' router has no lifespan protocol.
        "lifespan": "off",
        "log_config": None,
        "access_log": False,
        # As daphne: X-Forwarded-For only with --proxy-headers.
        "proxy_headers": False,
        "backlog": backlog,
        # Longer than a proxy keeps idle upstream connections (nginx: 60 s), so the proxy never
        # sends a request on a connection this side is closing (uvicorn's default is 5 s).
        "timeout_keep_alive": 75,
        "timeout_graceful_shutdown": GRACEFUL_STOP_S,
    }
    if extra_args:
        options.update(_command_line_options(extra_args))
    return options


def _command_line_options(extra_args: list[str]) -> dict[str, Any]:
    import click
    from click.core import ParameterSource

    # The module: the package's own ``uvicorn.main`` attribute is its command.
    command: click.Command = importlib.import_module("uvicorn.main").main
    try:
        context = command.make_context("uvicorn", [*extra_args, "imserver.asgi:application"])
    except click.ClickException as error:
        message = f"imserver.serve: uvicorn options after --: {error.format_message()}"
        raise SystemExit(message) from None
    given = {
        name: value
        for name, value in context.params.items()
        if context.get_parameter_source(name) == ParameterSource.COMMANDLINE and name != "app"
    }
    owned = sorted(set(given) & OWNED_OPTIONS)
    if owned:
        raise SystemExit(f"imserver.serve: set by imserver.serve, not after --: {', '.join(owned)}")
    if "headers" in given:  # (name, value) pairs already
        given["headers"] = [tuple(header) for header in given["headers"]]
    return given


class _NoSocketLines(logging.Filter):
    """uvicorn's line for every WebSocket handshake (``"WebSocket /ws?token=..." [accepted]``):
    the application writes the handshake's access line, without the query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith('%s - "WebSocket ')


def run_worker(fd: int, application: str, extra_args: list[str], backlog: int) -> int:
    """Serve on the listening socket ``fd`` in this process until SIGTERM/SIGINT."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imserver.settings")
    django.setup(set_prefix=False)
    logs.log_uncaught_exceptions()
    import uvicorn

    from imserver import overrides
    from imserver.serve import tune_process

    logging.getLogger("uvicorn.error").addFilter(_NoSocketLines())
    options = uvicorn_options(extra_args, backlog)
    overrides.install(server="uvicorn")
    module_name, _, attribute = application.partition(":")
    # Imported after install(): the application reads which overrides are active.
    app = getattr(importlib.import_module(module_name), attribute or "application")
    config = uvicorn.Config(app, **options)
    config.load()  # the protocol modules: imported before the process is tuned
    tune_process()
    sock = socket.socket(fileno=fd)
    logger.info("uvicorn serving on %s (fd %d)", sock.getsockname(), fd)
    # uvicorn raises the stopping signal again once it has stopped, with the handler it found:
    # a handler that does nothing, so the worker still logs its report and exits 0.
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, lambda *_: None)
    uvicorn.Server(config).run(sockets=[sock])
    overrides.log_report()
    return 0
