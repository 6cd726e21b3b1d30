"""``python -m imserver.serve --server uvicorn`` where its mechanisms differ from daphne's (the rest
of tests/e2e runs on uvicorn with ``IM_TEST_SERVER=uvicorn``): the options after ``--``, proxy
headers only when asked for, a download in flight finishing across SIGTERM, a client that never
reads cut off after its 4009, and a chunked body over the limit refused while still arriving.
These start uvicorn whatever ``IM_TEST_SERVER`` says; the proxy headers test runs on both."""

import asyncio
import hashlib
import http.client
import json
import select
import socket
import time
from pathlib import Path

import pytest

from imserver.serve_uvicorn import GRACEFUL_STOP_S, uvicorn_options
from tests.e2e.ws_clients import User, non_reading_socket
from tests.files.test_memory import stream_upload
from tests.support.server import ServerProcess, sqlite_server

MiB = 1024 * 1024


def test_options_after_the_double_dash_are_uvicorns_own_and_ours_are_refused(settings):
    settings.IM_WS_MAX_FRAME_BYTES = 1234
    options = uvicorn_options(
        ["--proxy-headers", "--forwarded-allow-ips", "10.0.0.5", "--header", "x-a:1"], 99
    )
    assert options["proxy_headers"] is True
    assert options["forwarded_allow_ips"] == "10.0.0.5"
    assert options["headers"] == [("x-a", "1")]
    assert (options["ws_max_size"], options["backlog"], options["ws_ping_interval"]) == (
        1234,
        99,
        None,
    )
    assert uvicorn_options([], 99)["proxy_headers"] is False  # as daphne: off unless asked
    for owned in (["--port", "1"], ["--workers", "2"], ["--ws-max-size", "9"]):
        with pytest.raises(SystemExit, match=r"set by imserver\.serve"):
            uvicorn_options(owned, 99)
    with pytest.raises(SystemExit, match=r"uvicorn options after --"):
        uvicorn_options(["--no-such-option"], 99)


def _metrics_status(server: ServerProcess, **headers: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("GET", "/metrics", headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.mark.parametrize("server_name", ["daphne", "uvicorn"])
def test_x_forwarded_for_counts_only_with_proxy_headers(tmp_path: Path, server_name: str):
    """/metrics answers loopback only (IM_METRICS_ALLOW): a forwarded address from elsewhere is
    refused with --proxy-headers and ignored without."""
    (tmp_path / "plain").mkdir()
    (tmp_path / "proxied").mkdir()
    plain = sqlite_server(tmp_path / "plain")
    proxied = sqlite_server(tmp_path / "proxied")
    plain.start(server=server_name)
    proxied.start(server=server_name, server_args=("--proxy-headers",))
    try:
        forwarded = {"X-Forwarded-For": "203.0.113.9"}
        assert _metrics_status(plain, **forwarded) == 200
        assert _metrics_status(proxied) == 200
        assert _metrics_status(proxied, **forwarded) == 403
    finally:
        plain.stop()
        proxied.stop()


def test_sigterm_lets_a_download_in_flight_finish(tmp_path: Path):
    server = sqlite_server(tmp_path, IM_MAX_UPLOAD_BYTES=str(64 * MiB))
    server.start(server="uvicorn")
    try:
        user = User(server, "alice")
        status, body, md5 = stream_upload(server.port, user.token, 32 * MiB)
        assert status == 200, body
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        connection.request(
            "GET",
            f"/file/download?file_id={body['data']['file_id']}",
            headers={"Authorization": f"Bearer {user.token}"},
        )
        response = connection.getresponse()
        assert response.status == 200
        received = hashlib.md5(usedforsecurity=False)
        received.update(response.read(MiB))
        server.process.terminate()  # most of the file is still to come
        started = time.monotonic()
        time.sleep(0.5)
        # No new connection once the stop began: the listening socket is closed.
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", server.port), 1).close()
        while chunk := response.read(MiB):
            received.update(chunk)
            time.sleep(0.02)
        connection.close()
        assert received.hexdigest() == md5
        assert server.process.wait(timeout=15) == 0
        assert time.monotonic() - started < GRACEFUL_STOP_S
    finally:
        server.stop()


def _received_frames(sock: socket.socket, within: float) -> tuple[bytes, bool]:
    """What the server sent, read until it closed the connection or ``within`` passed; and
    whether it did close (EOF or reset)."""
    sock.settimeout(0.5)
    got, deadline = b"", time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(1 << 20)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return got, True
        if not chunk:
            return got, True
        got += chunk
    return got, False


def test_a_client_that_never_reads_is_cut_off_after_its_4009(tmp_path: Path):
    """The 4009 close frame waits behind the unsent pushes; a client that answers nothing is
    dropped within the close timeout (10 s), and its consumer ran its cleanup at once."""
    server = sqlite_server(tmp_path, IM_WS_MAX_BUFFERED_BYTES="262144", IM_REQUIRE_FRIENDSHIP="0")
    server.start(server="uvicorn")
    try:
        alice, bob = User(server, "alice"), User(server, "bob")
        stuck = non_reading_socket(server, alice.token)
        text = "慢" * 5000
        for _ in range(600):
            bob.call(
                "POST", "/chat/send", {"to_user_id": alice.id, "chat_type": 0, "content": text}
            )
            if "slow consumer" in server.output():
                break
        assert "slow consumer" in server.output()
        deadline = time.monotonic() + 5
        while f"of user {alice.id} closed with 4009" not in server.output():
            assert time.monotonic() < deadline, server.output()[-3000:]
            time.sleep(0.1)
        time.sleep(11)  # the close timeout passes without an answer from the client
        _got, closed = _received_frames(stuck, within=5)
        assert closed
        stuck.close()
    finally:
        server.stop()
    assert "Traceback" not in server.output()


def test_a_chunked_body_over_the_limit_is_answered_while_the_client_still_sends(tmp_path: Path):
    server = sqlite_server(tmp_path)
    server.start(server="uvicorn")
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(
                b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n"
            )
            piece = b"%x\r\n%s\r\n" % (MiB // 4, b"x" * (MiB // 4))
            answer = b""
            for _ in range(40):  # 10 MiB at most; the answer comes after a bit over 1 MiB
                try:
                    sock.sendall(piece)
                except (BrokenPipeError, ConnectionResetError, TimeoutError):
                    break  # the server stopped reading: its answer is waiting
                while select.select([sock], [], [], 0)[0]:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    answer += chunk
                if b"\r\n\r\n" in answer:
                    break
            sock.settimeout(5)
            while b'"}' not in answer:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 413 "), answer[:200]
        assert b"connection: close" in head.lower()
        assert json.loads(body)["code"] == 40000
    finally:
        server.stop()
    assert "Traceback" not in server.output()


def test_the_socket_handshake_line_of_uvicorn_never_reaches_the_log(tmp_path: Path):
    """uvicorn logs each handshake with its query string (the token): dropped."""
    server = sqlite_server(tmp_path)
    server.start(server="uvicorn")
    try:
        user = User(server, "alice")

        async def open_and_close() -> None:
            socket_ = await user.socket()
            await socket_.send({"type": "ping"})
            await socket_.next("pong")
            await socket_.close()

        asyncio.run(open_and_close())
    finally:
        server.stop()
    log = server.output()
    assert "GET /ws 101" in log
    assert user.token not in log
    assert '"WebSocket /' not in log
