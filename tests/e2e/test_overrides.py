"""The server overrides (imserver/overrides/): installed by the server entry point only, each
called by its library in a real server, and stock behaviour with one warning when the installed
versions are not the ones an override was written for."""

import asyncio
import json
import re
import subprocess
import sys

from tests.e2e.conftest import Client
from tests.support.server import ROOT, TEST_SERVER, ServerProcess, daphne_only, sqlite_server

ANY_SERVER = {"lanes", "http_handler"}
EVERY_OVERRIDE = {
    *ANY_SERVER,
    "write_through",
    "prepared_frames",
    "autobahn_quiet",
    "daphne_limits",
    "daphne_body_limit",
    "daphne_streaming",
    "daphne_shutdown",
}
UVICORN_OVERRIDES = {*ANY_SERVER, "uvicorn_websocket"}
# What a worker of the test server installs.
SERVER_OVERRIDES = UVICORN_OVERRIDES if TEST_SERVER == "uvicorn" else EVERY_OVERRIDE


def logged_report(server: ServerProcess) -> dict:
    """The counts a worker logs when it stops."""
    found = re.findall(r"server overrides: (\{.*\})$", server.output(), re.MULTILINE)
    assert len(found) == 1, server.output()
    return json.loads(found[0])


def talk(server: ServerProcess) -> None:
    """REST calls with bodies, a socket that sends a message and gets its ack and the push,
    and a socket closed by the client."""
    alice, bob = Client(server, "alice"), Client(server, "bob")

    async def scenario() -> None:
        await alice.connect()
        await bob.connect()
        await alice.send(
            {"type": "message", "data": {"to_user_id": bob.id, "chat_type": 0, "content": "hi"}}
        )
        assert (await alice.next("ack"))["seq"] == 1
        assert (await bob.next("message"))["content"] == "hi"
        await alice.socket.close()
        await bob.socket.close()

    asyncio.run(scenario())


# Probe code: the warnings logged from here on, in the list ``warnings``.
CAPTURE_WARNINGS = (
    "warnings = []\n"
    "handler = logging.Handler(logging.WARNING)\n"
    "handler.emit = lambda record: warnings.append(record.getMessage())\n"
    "logging.getLogger().addHandler(handler)\n"
)


def probe(code: str, **env: str) -> subprocess.CompletedProcess:
    """``code`` in a fresh Python process with Django set up (DEBUG)."""
    setup = (
        "import django, os, json, logging; "
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'imserver.settings'; django.setup()\n"
    )
    return subprocess.run(
        [sys.executable, "-c", setup + code],
        cwd=ROOT,
        env={**ServerProcess({}).env, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_library_calls_every_hook_of_every_override_in_a_real_server(tmp_path):
    """Fails when an upgrade leaves a hook in place that nothing calls any more."""
    server = sqlite_server(tmp_path, IM_REQUIRE_FRIENDSHIP="0", IM_GC_GEN0_THRESHOLD="12345")
    server.start()
    try:
        talk(server)
    finally:
        server.stop()
    report = logged_report(server)
    assert set(report) == SERVER_OVERRIDES
    for name, state in report.items():
        assert state["active"], name
        assert state["calls"], name
        for hook, calls in state["calls"].items():
            assert calls > 0, (name, hook)
    log = server.output()
    active = re.search(r"server overrides active: (.*)$", log, re.MULTILINE)
    assert active and set(active.group(1).split(", ")) == SERVER_OVERRIDES
    assert re.search(r"process tuned: GIL switch interval 0\.5 ms, gc threshold 12345, \d+", log)
    assert "WARNING" not in log


@daphne_only
def test_daphne_run_directly_serves_with_stock_behaviour(tmp_path):
    """``daphne imserver.asgi:application``: Django's ASGI handler, Channels' threads, no
    override and no tuning; REST and /ws still work."""
    server = sqlite_server(tmp_path, IM_REQUIRE_FRIENDSHIP="0")
    server.start(stock=True)
    try:
        talk(server)
    finally:
        server.stop()
    assert "server overrides" not in server.output()
    assert "process tuned" not in server.output()


def test_importing_the_application_installs_nothing_and_tunes_nothing():
    result = probe(
        "import gc, sys\n"
        "from django.core.handlers.asgi import ASGIHandler\n"
        "from imserver import overrides\n"
        "from imserver.asgi import application\n"
        "print(json.dumps([\n"
        "    overrides.gate.active(),\n"
        "    type(application.application_mapping['http'].app) is ASGIHandler,\n"
        "    sys.getswitchinterval(), gc.get_threshold()[0], gc.get_freeze_count(),\n"
        "]))"
    )
    assert result.returncode == 0, result.stderr
    active, stock_handler, switch_interval, threshold, frozen = json.loads(result.stdout)
    assert active == dict.fromkeys(EVERY_OVERRIDE, False)
    assert (stock_handler, switch_interval, threshold, frozen) == (True, 0.005, 700, 0)


def test_a_version_mismatch_is_one_warning_and_stock_behaviour():
    result = probe(
        "from twisted.internet import tcp\n"
        "from imserver import overrides\n"
        "from imserver.overrides import write_through\n"
        "stock_write = tcp.Connection.write\n"
        "write_through.OVERRIDE.written_for = {'twisted': '1.0.0'}\n"
        + CAPTURE_WARNINGS
        + "active = overrides.install()\n"
        "overrides.install()  # a second call changes nothing\n"
        "print(json.dumps([active, warnings, tcp.Connection.write is stock_write]))"
    )
    assert result.returncode == 0, result.stderr
    active, warnings, stock_write = json.loads(result.stdout)
    assert warnings == [
        "server override write_through not installed (stock behaviour): "
        "written for twisted 1.0.0, found twisted 26.10.0"
    ]
    assert stock_write
    assert active == {name: name != "write_through" for name in EVERY_OVERRIDE}


def test_a_missing_hook_is_one_warning_and_stock_behaviour():
    result = probe(
        "from autobahn.websocket import protocol\n"
        "from imserver import overrides\n"
        "stock_hltype = protocol.hltype\n"
        "del protocol.hlval\n" + CAPTURE_WARNINGS + "active = overrides.install()\n"
        "print(json.dumps([active['autobahn_quiet'], warnings, protocol.hltype is stock_hltype]))"
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        False,
        [
            "server override autobahn_quiet not installed (stock behaviour): "
            "autobahn.websocket.protocol:hlval is missing"
        ],
        True,
    ]


def test_under_uvicorn_only_its_own_and_the_server_agnostic_overrides_are_installed():
    result = probe(
        "from daphne.http_protocol import WebRequest\n"
        "from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol\n"
        "from imserver import overrides\n"
        "stock_length, stock_send = WebRequest.gotLength, WebSocketsSansIOProtocol.send\n"
        "active = overrides.install(server='uvicorn')\n"
        "print(json.dumps([active, sorted(overrides.report()),\n"
        "    WebRequest.gotLength is stock_length, WebSocketsSansIOProtocol.send is stock_send]))"
    )
    assert result.returncode == 0, result.stderr
    active, reported, daphne_stock, uvicorn_stock = json.loads(result.stdout)
    assert active == dict.fromkeys(UVICORN_OVERRIDES, True)
    assert reported == sorted(UVICORN_OVERRIDES)
    assert (daphne_stock, uvicorn_stock) == (True, False)


def test_a_uvicorn_version_mismatch_is_one_warning_and_stock_behaviour():
    result = probe(
        "from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol\n"
        "from imserver import overrides\n"
        "from imserver.overrides import uvicorn_websocket\n"
        "stock_send = WebSocketsSansIOProtocol.send\n"
        "uvicorn_websocket.OVERRIDE.written_for = {'uvicorn': '0.1.0', 'websockets': '17.4'}\n"
        + CAPTURE_WARNINGS
        + "active = overrides.install(server='uvicorn')\n"
        "print(json.dumps([active, warnings, WebSocketsSansIOProtocol.send is stock_send]))"
    )
    assert result.returncode == 0, result.stderr
    active, warnings, stock_send = json.loads(result.stdout)
    assert warnings == [
        "server override uvicorn_websocket not installed (stock behaviour): "
        "written for uvicorn 0.1.0, websockets 17.4, found uvicorn 0.55.0, websockets 17.4"
    ]
    assert stock_send
    assert active == {name: name != "uvicorn_websocket" for name in UVICORN_OVERRIDES}


def test_without_a_gc_threshold_the_collector_is_left_as_python_sets_it():
    result = probe(
        "import gc\n"
        "from imserver.serve import tune_process\n"
        "tune_process()\n"
        "print(gc.get_threshold()[0], gc.get_freeze_count())",
        IM_GC_GEN0_THRESHOLD="0",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["700", "0"]
