"""The server entry point: N worker processes on one port, with the server overrides.

    python -m imserver.serve --workers 2 --host 127.0.0.1 --port 8080 [--server uvicorn]

Each worker (``python -m imserver.serve --fd N``, started by this process) sets up Django,
installs the server overrides for its ASGI server (``imserver.overrides.install``), tunes the
process (GIL switch interval, garbage collector) and runs the server in-process on the listening
socket it inherited: daphne (the default) with ``DAPHNE_DEFAULTS``, or uvicorn with uvloop and
httptools (``--server uvicorn``, imserver/serve_uvicorn.py). ``daphne
imserver.asgi:application`` run directly gets none of that: stock behaviour of every library.

Each worker gets its own listening socket, bound with ``SO_REUSEPORT`` when there are several,
so the kernel spreads connections and no proxy is needed on one machine. Every worker is a full
server (HTTP and ``/ws``); with ``REDIS_URL`` set they form one cluster (pushes, presence and
limits are shared). Without ``REDIS_URL`` use one worker: the in-memory channel layer does not
cross processes. SIGTERM/SIGINT stop every worker; when one worker dies the others are stopped
too.

This process and the workers print only through Python logging, onto stderr, in the format of
``LOG_FORMAT`` (imserver/logs.py): the server's own access log is off, Twisted's and uvicorn's
logs, warnings and uncaught exceptions go through logging too.

The workers report their Prometheus metrics as one (``/metrics``, imserver/metrics.py): this
process sets ``PROMETHEUS_MULTIPROC_DIR`` for them (``prepare_metrics_dir``) and drops the live
gauges of each worker that ended.
"""

import argparse
import gc
import glob
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

from imserver import logs

# Sockets have no absolute lifetime: each lives as long as its access token, extended by the
# client's ``auth`` frames, and closes when idle (docs/realtime.md). Daphne's own default closes
# every socket after 24 hours. Verbosity 0: daphne writes no access log of its own (a plain line
# on stdout per request); the application logs each request and /ws handshake as one line of its
# log (imserver.access, imserver/logs.py). Extra arguments after ``--`` come later and win.
DAPHNE_DEFAULTS = ["--websocket_timeout", "-1", "--verbosity", "0"]
APPLICATION = "imserver.asgi:application"
SERVERS = ("daphne", "uvicorn")
BACKLOG = 4096

logger = logging.getLogger("imserver.serve")


def listening_socket(host: str, port: int, backlog: int, *, shared: bool) -> socket.socket:
    """``shared``: other workers bind the same port (``SO_REUSEPORT``)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    sock.set_inheritable(True)
    return sock


def tune_process() -> None:
    """After start-up: the GIL switch interval and the garbage collector's thresholds."""
    from django.conf import settings

    # The event loop (sockets, pushes) waits for the GIL behind the lane threads; Python's
    # default 5 ms lets a busy lane hold pushes back.
    sys.setswitchinterval(settings.IM_GIL_SWITCH_MS / 1000)
    if settings.IM_GC_GEN0_THRESHOLD:
        # Everything loaded so far (Django, models, the application) lives as long as the
        # process: no collection needs to scan it again. Young collections run less often.
        gc.collect()
        gc.freeze()
        gc.set_threshold(settings.IM_GC_GEN0_THRESHOLD, *gc.get_threshold()[1:])
    logger.info(
        "process tuned: GIL switch interval %g ms, gc threshold %d, %d objects frozen",
        sys.getswitchinterval() * 1000,
        gc.get_threshold()[0],
        gc.get_freeze_count(),
    )


def run_daphne_worker(fd: int, application: str, daphne_args: list[str]) -> int:
    """Serve on the listening socket ``fd`` with daphne in this process until SIGTERM/SIGINT."""
    # Installs Twisted's asyncio reactor: before anything imports twisted.internet.reactor.
    import daphne.server  # noqa: F401
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imserver.settings")
    django.setup(set_prefix=False)
    # Logging is configured now: what would print around it goes through it too.
    logs.log_uncaught_exceptions()
    logs.twisted_to_logging()
    from daphne.cli import CommandLineInterface

    from imserver import overrides

    overrides.install()
    __import__(application.partition(":")[0])  # the application reads which are active
    tune_process()
    CommandLineInterface().run(["--fd", str(fd), *DAPHNE_DEFAULTS, *daphne_args, application])
    overrides.log_report()
    return 0


def prepare_metrics_dir() -> Callable[[], None]:
    """The folder where the workers keep their metrics (imserver/metrics.py), in
    ``PROMETHEUS_MULTIPROC_DIR`` for the workers to inherit; returns what removes it.

    The operator's folder (the variable set) is emptied of the files a previous run left, and
    kept; otherwise a fresh temporary folder is made here and removed when the server stops.
    This process itself never imports prometheus-client before the variable is set."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
        for stale in glob.glob(os.path.join(folder, "*.db")):
            os.remove(stale)
        return lambda: None
    folder = tempfile.mkdtemp(prefix="imserver-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    return lambda: shutil.rmtree(folder, ignore_errors=True)


def forget_worker_gauges(pid: int) -> None:
    """A worker that ended no longer counts in the live gauges (open sockets, lane queue)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)


def supervise(
    sockets: list[socket.socket], application: str, server_args: list[str], worker_args: list[str]
) -> int:
    """One worker process per socket; returns when stopped (0) or when a worker died (1).
    ``worker_args``: the server and backlog options every worker gets."""
    remove_metrics_dir = prepare_metrics_dir()
    try:
        return _supervise(sockets, application, server_args, worker_args)
    finally:
        remove_metrics_dir()


def _supervise(
    sockets: list[socket.socket], application: str, server_args: list[str], worker_args: list[str]
) -> int:
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "imserver.serve",
                "--fd",
                str(sock.fileno()),
                "--application",
                application,
                *worker_args,
                "--",
                *server_args,
            ],
            pass_fds=(sock.fileno(),),
        )
        for sock in sockets
    ]
    for sock in sockets:
        sock.close()  # the workers hold their copies
    logger.info("workers started: pids %s", ", ".join(str(worker.pid) for worker in workers))

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping and all(worker.poll() is None for worker in workers):
        time.sleep(0.2)
    for worker in workers:
        if worker.returncode is not None:
            logger.error(
                "worker %d exited with code %d: stopping the others", worker.pid, worker.returncode
            )
    for worker in workers:
        if worker.poll() is None:
            worker.terminate()
    deadline = time.monotonic() + 10
    for worker in workers:
        try:
            worker.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=5)
        forget_worker_gauges(worker.pid)
    logger.info(
        "workers stopped: %s",
        ", ".join(f"pid {worker.pid} code {worker.returncode}" for worker in workers),
    )
    return 0 if stopping else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--backlog", type=int, default=BACKLOG)
    parser.add_argument("--server", choices=SERVERS, default="daphne", help="the ASGI server")
    parser.add_argument("--application", default=APPLICATION)
    parser.add_argument("--fd", type=int, help="be one worker, on this inherited listening socket")
    parser.add_argument("server_args", nargs="*", help="extra daphne or uvicorn options (after --)")
    args = parser.parse_args(argv)

    if args.fd is not None:
        if args.server == "uvicorn":
            from imserver import serve_uvicorn

            return serve_uvicorn.run_worker(
                args.fd, args.application, args.server_args, args.backlog
            )
        return run_daphne_worker(args.fd, args.application, args.server_args)
    count = max(1, args.workers)
    logs.configure_logging_from_settings()
    logs.log_uncaught_exceptions()
    logger.info("serving on %s:%d with %d %s workers", args.host, args.port, count, args.server)
    sockets = [
        listening_socket(args.host, args.port, args.backlog, shared=count > 1) for _ in range(count)
    ]
    worker_args = ["--server", args.server, "--backlog", str(args.backlog)]
    return supervise(sockets, args.application, args.server_args, worker_args)


if __name__ == "__main__":
    sys.exit(main())
