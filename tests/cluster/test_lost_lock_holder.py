"""A host lost while it holds a message's ordering lock does not stop that message's edits.

Every edit and recall of a message holds a session-level advisory lock (chat/ordering.py),
also outside its transaction: before it, and while its pushes are handed over after it. A host
whose link is cut then leaves an idle session holding that lock, and no timeout ends an idle
session: PostgreSQL must notice that the client is gone, by TCP keepalives
(``DB_TCP_KEEPALIVE_S``, imserver/settings.py), and end the session, which frees the lock.

The hosts of tests/cluster/test_losing_a_host.py. On host a, a process with the server's own
settings takes a message's lock through ``message_push_order`` and keeps it; host a's link is
cut; an edit of that message through host b's server, sent from the client host, must succeed
within ``FREED_WITHIN_S``. Without the keepalives it waits until the lock wait gives up
(``chat.ordering.LOCK_WAIT``) and fails with 50001.
"""

import json
import os
import subprocess
import sys
import time
from typing import Any

import pytest

from chat.ordering import NAMESPACE, _folded
from tests.cluster import test_losing_a_host
from tests.support import netns
from tests.support.server import ROOT

pytestmark = pytest.mark.requires_postgres

KEEPALIVE_S = 3  # DB_TCP_KEEPALIVE_S of every process here: the lost session ends in ~3-4 s
FREED_WITHIN_S = 30  # after the cut, for the edit through host b; a slow machine's slack
EDIT_TIMEOUT_S = 90  # longer than LOCK_WAIT: a lock never freed ends as 50001, not a hang

hosts = test_losing_a_host.hosts  # the fixture: both servers, PostgreSQL, Redis

# Run on host a: take the message's ordering lock as an edit does, say so, keep it.
HOLDER = """
import sys
import django
django.setup()
from chat.ordering import message_push_order
with message_push_order(int(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.readline()
"""

# Run on the client host: two users, a message from one to the other, through host b.
SET_UP = """
import json, sys
from tests.cluster.client_driver import rest
base = sys.argv[1]
tokens = {}
for name in ("ann", "bob"):
    body = {"username": name, "password": "secret123", "email": f"{name}@e.com"}
    rest("POST", f"{base}/register", json=body)
    tokens[name] = rest("POST", f"{base}/login", json=body)["access_token"]
bob = rest("GET", f"{base}/user/profile", tokens["bob"])["id"]
sent = rest(
    "POST", f"{base}/chat/send", tokens["ann"],
    json={"to_user_id": bob, "chat_type": 0, "content": "before", "client_msg_id": "m1"},
)
print(json.dumps({"token": tokens["ann"], "message_id": sent["id"]}))
"""

# Run on the client host: edit the message through host b, say how it went and how long it took.
EDIT = """
import json, sys, time
import requests
base, token, message_id, timeout = sys.argv[1:]
started = time.monotonic()
with requests.Session() as session:
    session.trust_env = False
    response = session.post(
        f"{base}/chat/message/edit",
        headers={"Authorization": f"Bearer {token}"},
        json={"message_id": int(message_id), "content": "after"},
        timeout=(2, float(timeout)),
    )
took = time.monotonic() - started
print(json.dumps({"took": took, "status": response.status_code, "body": response.json()}))
"""


@pytest.fixture(autouse=True)
def short_keepalive(monkeypatch):
    """Every process of the cluster (the servers too) probes, and is probed, within seconds."""
    monkeypatch.setenv("DB_TCP_KEEPALIVE_S", str(KEEPALIVE_S))


def _run_json(net: netns.Network, host: str, script: str, *args: str, timeout: float) -> Any:
    done = net.run(
        host,
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return json.loads(done.stdout)


def _psql(net: netns.Network, query: str) -> str:
    done = net.run(
        "svc",
        ["psql", "-h", net.address("svc"), "-U", "postgres", "-Atc", query],
        capture_output=True,
        text=True,
        timeout=20,
    )
    return done.stdout.strip()


def _holders(net: netns.Network, message_id: int) -> str:
    """The client addresses of the sessions holding the message's ordering lock."""
    return _psql(
        net,
        "SELECT string_agg(host(a.client_addr), ',') FROM pg_locks l"
        " JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND l.granted"
        f" AND l.classid = {NAMESPACE} AND l.objid = {_folded(message_id) % 2**32}"
        " AND l.objsubid = 2",
    )


def _hold_on_host_a(net: netns.Network, database_url: str, message_id: int) -> None:
    """A process of host a holding the message's lock, started with the servers' settings."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "imserver.settings",
        "DEBUG": "1",
        "DATABASE_URL": database_url,
    }
    for name in ("REDIS_URL", "CHANNEL_LAYER_REDIS_URL"):  # no pushes: nothing to reach
        env.pop(name, None)
    holder = net.popen(
        "a",
        [sys.executable, "-c", HOLDER, str(message_id)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = holder.stdout.readline()
    if line.strip() != "held":
        holder.kill()
        pytest.fail(f"host a did not take the lock: {line!r} {holder.stderr.read()[-3000:]}")


def test_a_lost_hosts_ordering_lock_is_freed_for_the_other_host(hosts):
    net, urls, _logs, postgres = hosts
    message = _run_json(net, "client", SET_UP, urls["b"], timeout=60)
    message_id = message["message_id"]
    _hold_on_host_a(net, postgres.url, message_id)
    assert _holders(net, message_id) == net.address("a")

    net.cut("a")
    cut_at = time.monotonic()
    edit = _run_json(
        net,
        "client",
        EDIT,
        urls["b"],
        message["token"],
        str(message_id),
        str(EDIT_TIMEOUT_S),
        timeout=EDIT_TIMEOUT_S + 30,
    )
    freed_after = time.monotonic() - cut_at

    report = json.dumps({"edit": edit, "after the cut": round(freed_after, 1)})
    assert edit["status"] == 200 and edit["body"]["code"] == 20000, report
    assert edit["body"]["data"]["content"] == "after", report
    assert freed_after < FREED_WITHIN_S, report
    assert _holders(net, message_id) == "", report  # host a's session is gone
    print(report)
