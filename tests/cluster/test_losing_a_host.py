"""A cluster across hosts loses one: its clients move to the other host and lose nothing.

Four network namespaces on this machine (tests/support/netns.py) joined by a bridge:

- ``svc``: the test's own PostgreSQL cluster and redis-server, listening on the bridge;
- ``a`` and ``b``: one server each, ``python -m imserver.serve --workers 2`` (the ASGI server
  of ``IM_TEST_SERVER``), on the same database and Redis;
- ``client``: the clients (tests/cluster/client_driver.py, run there).

Six users with ten devices: some only on host a, some only on b, two with a device on each.
They talk in five private conversations and two groups (one of ten members, so its messages take
the fan-out path), over /ws frames and REST alike. After a first round, delivered everywhere,
a second round runs and host a's link is cut in the middle of it (its bridge port goes down:
silence both ways, as when a host dies). The devices follow docs/realtime.md: a ping timeout
tells them their host is gone, they connect to the other host, catch up with ``after_seq`` and
send again, with the same ``client_msg_id``, what got no answer.

Words used below. A message is *acknowledged* when its sender got an ``ack`` frame or a
REST answer for it (to the first attempt or to a retry). A message is *delivered to a socket*
when that socket receives its ``message`` push; a device *holds* a message when one of its
sockets got that push or its ``after_seq`` requests returned it, counted once per device by
``message_id`` (a message pushed on the old socket and returned again by the catch-up is held
once, as a client keeps it once).

What must hold:
- no socket gets the same message twice;
- before the cut, every acknowledged message reaches every device of its conversation by push,
  whichever host it was sent through and whichever host the device is on;
- every device of host a loses its socket within seconds of the cut and continues on host b;
  no device of host b loses its socket;
- in the end every device holds exactly the acknowledged messages of its conversations:
  none lost, none unknown; every send was acknowledged in the end (retries included);
- host b's devices get every message sent through host b alone by push, with no catch-up
  needed. A message host a stored whose push was lost with it leaves a hole in their seqs,
  which they catch up with ``after_seq`` (docs/deployment.md, "Losing a host").
"""

import json
import os
import queue
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.services import Postgres, missing_services, start_redis
from tests.support import netns
from tests.support.server import ROOT, SERVE_ARGS

# Runs once in CI: in the PostgreSQL + Redis pass (its services are its own either way).
pytestmark = pytest.mark.requires_postgres

PORT = 8000
DRIVER = ROOT / "tests" / "cluster" / "client_driver.py"
DETECTED_WITHIN_S = 6  # the driver's ping interval and timeout, plus a slow machine's slack


def _why_not() -> str | None:
    return netns.unavailable() or missing_services()


@pytest.fixture
def hosts():
    """The four hosts, services running and migrated, both servers listening; everything
    removed afterwards (processes, namespaces, files), also when the test fails."""
    reason = _why_not()
    if reason:
        pytest.skip(f"no cross-host cluster here: {reason}")
    folder = Path(tempfile.mkdtemp(prefix="im-cluster-"))
    net = netns.Network(["svc", "a", "b", "client"])
    postgres = None
    try:
        postgres = Postgres(net, "svc", folder / "pg")  # made by postgres: its own folder
        postgres.start()
        env = {
            **os.environ,
            "DEBUG": "1",
            "SECRET_KEY": secrets.token_urlsafe(40),  # tokens from one host work on the other
            "ALLOWED_HOSTS": f"{net.address('a')},{net.address('b')}",
            "DATABASE_URL": postgres.url,
            "REDIS_URL": start_redis(net, "svc", folder),
            "IM_THROTTLE": "0",
            "IM_REQUIRE_FRIENDSHIP": "0",
        }
        env.pop("CHANNEL_LAYER_REDIS_URL", None)
        net.run(
            "svc", [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env
        )
        logs = {}
        for host in ("a", "b"):
            logs[host] = folder / f"server-{host}.log"
            with open(logs[host], "wb") as log:
                serve = f"-m imserver.serve --workers 2 --host {net.address(host)} --port {PORT}"
                net.popen(
                    host,
                    [sys.executable, *serve.split(), *SERVE_ARGS],
                    cwd=ROOT,
                    env={**env, "PROMETHEUS_MULTIPROC_DIR": str(folder / f"metrics-{host}")},
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                )
        urls = {host: f"http://{net.address(host)}:{PORT}" for host in ("a", "b")}
        _wait_until_live(net, urls, logs)
        yield net, urls, logs, postgres
    finally:
        if postgres is not None:
            postgres.stop()
        net.close()
        shutil.rmtree(folder, ignore_errors=True)


def _wait_until_live(net: netns.Network, urls: dict[str, str], logs: dict[str, Path]) -> None:
    """Both servers answer /livez from the client host, or the test fails with their logs."""
    poll = (
        "import sys, time, urllib.request\n"
        "opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))\n"
        "for url in sys.argv[1:]:\n"
        "    deadline = time.monotonic() + 60\n"
        "    while True:\n"
        "        try:\n"
        "            opener.open(url + '/livez', timeout=2).read(); break\n"
        "        except OSError:\n"
        "            if time.monotonic() > deadline: sys.exit(f'{url} is not live')\n"
        "            time.sleep(0.2)\n"
    )
    try:
        net.run("client", [sys.executable, "-c", poll, *urls.values()], capture_output=True)
    except subprocess.CalledProcessError:
        pytest.fail(
            "servers did not start:\n" + "\n".join(p.read_text()[-3000:] for p in logs.values())
        )


def _drive(net: netns.Network, urls: dict[str, str], logs: dict[str, Path]) -> dict[str, Any]:
    """Run the clients on the client host; cut host a when they ask; return their result."""
    driver = net.popen(
        "client",
        [sys.executable, str(DRIVER), json.dumps(urls)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(line) for line in driver.stdout], daemon=True
    ).start()
    errors: list[str] = []
    threading.Thread(target=lambda: errors.extend(driver.stderr), daemon=True).start()

    def next_event(within: float) -> dict[str, Any]:
        try:
            return json.loads(lines.get(timeout=within))
        except queue.Empty:
            driver.kill()
            driver.wait(timeout=5)
            pytest.fail(
                "the client driver stopped answering:\n"
                + "".join(errors)[-5000:]
                + _database_sessions(net)
                + "".join(
                    f"\nserver {host}:\n" + log.read_text()[-3000:] for host, log in logs.items()
                )
            )

    assert next_event(60)["event"] == "cut"
    net.cut("a")
    driver.stdin.write("cut\n")
    driver.stdin.flush()
    result = next_event(120)
    driver.wait(timeout=10)
    assert result["event"] == "result", result
    return result


def _database_sessions(net: netns.Network) -> str:
    """What each PostgreSQL session is doing (shown when the clients hang)."""
    query = (
        "SELECT client_addr, state, wait_event_type, now() - xact_start AS xact, left(query, 60)"
        " FROM pg_stat_activity WHERE backend_type = 'client backend'"
    )
    shown = subprocess.run(
        net.command("svc", ["psql", "-h", net.address("svc"), "-U", "postgres", "-c", query]),
        capture_output=True,
        text=True,
        timeout=10,
    )
    return "\nPostgreSQL sessions:\n" + shown.stdout + shown.stderr


def test_clients_of_a_lost_host_move_to_the_other_and_lose_nothing(hosts):
    net, urls, logs, postgres = hosts
    started = time.monotonic()
    result = _drive(net, urls, logs)
    acked, devices = result["acked"], result["devices"]
    cut_asked, cut_at = result["events"]["cut asked"], result["events"]["cut"]
    conversation_of = {int(mid): ack["conversation"] for mid, ack in acked.items()}
    # Sent through host b only. A retry through b of a send that host a had stored gets the
    # stored message back and pushes nothing again: its push went down with host a.
    through_b = {int(mid) for mid, ack in acked.items() if set(ack["hosts"]) == {"b"}}
    report = json.dumps(
        {
            "events": result["events"],
            "took": round(time.monotonic() - started, 1),
            "sessions of host a ended idle in a transaction": (
                postgres.sessions_ended_idle_in_transaction()
            ),
        }
    )

    assert result["never_acked"] == [], report
    assert len(acked) == result["sends"], report  # each stored once, retries included
    assert {host for ack in acked.values() for host in ack["hosts"]} == {"a", "b"}
    before_cut = set(result["before_cut"])

    for name, device in devices.items():
        sockets = device["sockets"]
        mine = {mid for mid, key in conversation_of.items() if key in device["conversations"]}
        pushed = [mid for socket in sockets for mid in socket["pushes"]]

        for socket in sockets:  # no socket gets a message twice
            twice = [mid for mid, n in Counter(socket["pushes"]).items() if n > 1]
            assert twice == [], (name, socket["host"], twice)

        unpushed = sorted(before_cut & mine - set(sockets[0]["pushes"]))
        assert unpushed == [], (name, [acked[str(mid)] for mid in unpushed])  # pushed both ways

        if device["home"] == "a":
            first, *later = sockets
            assert first["host"] == "a" and later, (name, sockets)
            assert cut_asked < first["closed"] <= cut_at + DETECTED_WITHIN_S, (name, cut_at, first)
            assert [s["host"] for s in later] == ["b"] * len(later), (name, later)
            # What it missed came with the catch-up on moving: everything stored by then.
            assert device["gap_filled"] == [], (name, device["gap_filled"])
        else:
            assert len(sockets) == 1 and sockets[0]["host"] == "b", (name, sockets)
            unpushed = sorted(through_b & mine - set(pushed))
            assert unpushed == [], (name, cut_at, {mid: acked[str(mid)] for mid in unpushed})

        held = set(device["held"])
        assert held == mine, (name, "lost", sorted(mine - held), "unknown", sorted(held - mine))

    # What a lost host costs: the sends it left unanswered, sent again; and how the devices of
    # host a got what they missed. Shown with -rA / on failure.
    moved = {n: len(d["caught_up"]) for n, d in devices.items() if d["home"] == "a"}
    print(
        report,
        "caught up after moving:",
        moved,
        "retries:",
        {n: d["unanswered"] for n, d in devices.items() if d["unanswered"]},
    )
