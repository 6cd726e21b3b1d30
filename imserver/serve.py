"""Run N daphne processes on one port (the kernel spreads connections with SO_REUSEPORT).

    python -m imserver.serve --workers 2 --host 127.0.0.1 --port 8080

Each worker gets its own listening socket bound with ``SO_REUSEPORT`` and passed to daphne as
``--fd``, so no proxy is needed on one machine. Every worker is a full server (HTTP and ``/ws``);
with ``REDIS_URL`` set they form one cluster (pushes, presence and limits are shared). Without
``REDIS_URL`` use one worker: the in-memory channel layer does not cross processes.
SIGTERM/SIGINT stop every worker; when one worker dies the others are stopped too.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time

# Sockets have no absolute lifetime: each lives as long as its access token, extended by the
# client's ``auth`` frames, and closes when idle (docs/realtime.md). Daphne's own default closes
# every socket after 24 hours. Extra arguments after ``--`` come later and win.
DAPHNE_DEFAULTS = ["--websocket_timeout", "-1"]


def listening_socket(host: str, port: int, backlog: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    sock.set_inheritable(True)
    return sock


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--backlog", type=int, default=4096)
    parser.add_argument("--application", default="imserver.asgi:application")
    parser.add_argument("daphne_args", nargs="*", help="extra daphne arguments (after --)")
    args = parser.parse_args(argv)

    sockets = [
        listening_socket(args.host, args.port, args.backlog) for _ in range(max(1, args.workers))
    ]
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daphne",
                "--fd",
                str(sock.fileno()),
                *DAPHNE_DEFAULTS,
                *args.daphne_args,
                args.application,
            ],
            pass_fds=(sock.fileno(),),
        )
        for sock in sockets
    ]
    for sock in sockets:
        sock.close()  # the workers hold their copies

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping and all(worker.poll() is None for worker in workers):
        time.sleep(0.2)
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
    return 0 if stopping else 1


if __name__ == "__main__":
    sys.exit(main())
