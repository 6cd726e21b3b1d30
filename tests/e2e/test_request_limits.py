"""Body limits and hostile JSON through a real server process (daphne), which the test client
skips: an oversized body is answered 413 in the envelope as soon as its headers are in, with
the body never read (CONTRACT 12), also without rate limits and without the streaming patch."""

import http.client
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import ServerProcess, sqlite_server

MIB = 1024 * 1024
TWO_GB = 2 * 1024**3


@pytest.fixture(scope="module", params=["debug-off", "debug-on", "no-streaming-patch"])
def server(request, tmp_path_factory) -> Iterator[ServerProcess]:
    env = {"DEBUG": "0" if request.param == "debug-off" else "1", "LOG_LEVEL": "WARNING"}
    if request.param == "no-streaming-patch":
        env["IM_DAPHNE_STREAMING_BODY"] = "0"
    process = sqlite_server(Path(tmp_path_factory.mktemp("limits")), **env)  # IM_THROTTLE=0
    process.start()
    body = {"username": "alice", "password": "secret123", "email": "alice@example.com"}
    assert process.request("POST", "/register", body)[0] == 200
    yield process
    process.stop()


def exchange(server: ServerProcess, head: str, body: bytes = b"", timeout: float = 5) -> bytes:
    """Send ``head`` (request line and headers) and ``body``; everything the server answers
    until it closes the connection or ``timeout`` passes."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        sock.sendall(head.encode("latin-1") + b"\r\n" + body)
        answer = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            answer += chunk
            if _complete(answer):
                break
        return answer


def _complete(answer: bytes) -> bool:
    head, sep, body = answer.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def parsed(answer: bytes) -> tuple[int, dict[str, str], dict]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, json.loads(body)


def send(
    server: ServerProcess, method: str, path: str, body: bytes = b"", **headers: str
) -> tuple[int, dict[str, str], dict]:
    """An ordinary request (http.client): status, lower-cased headers, the JSON body."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
    try:
        names = {name.replace("_", "-"): value for name, value in headers.items()}
        connection.request(method, path, body=body or None, headers=names)
        response = connection.getresponse()
        answer_headers = {name.lower(): value for name, value in response.getheaders()}
        return response.status, answer_headers, json.loads(response.read())
    finally:
        connection.close()


def request_head(method: str, path: str, **headers: str | int) -> str:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return "\r\n".join(lines) + "\r\n"


@pytest.mark.parametrize("expect_continue", [False, True])
def test_login_declaring_2_gb_is_413_at_once_without_the_body(server, expect_continue):
    extra = {"Expect": "100-continue"} if expect_continue else {}
    head = request_head(
        "POST", "/login", Content_Type="application/json", Content_Length=TWO_GB, **extra
    )
    started = time.monotonic()
    answer = exchange(server, head, b'{"username": ')
    assert time.monotonic() - started < 3
    assert answer.startswith(b"HTTP/1.1 413 ")  # no "100 Continue" before it
    status, headers, body = parsed(answer)
    assert (status, body["code"]) == (413, 40000)
    assert body["message"] == "参数错误: 请求体不能超过 1048576 字节"
    assert headers["content-type"] == "application/json"
    assert headers["connection"] == "close" and headers["x-request-id"]
    assert server.process.poll() is None


def test_the_refusal_speaks_the_clients_language(server):
    head = request_head(
        "POST",
        "/login",
        Content_Type="application/json",
        Content_Length=MIB + 1,
        Accept_Language="en",
    )
    _status, _headers, body = parsed(exchange(server, head))
    assert body["message"] == "Invalid parameter: request body must be at most 1048576 bytes"


def test_upload_declaring_more_than_its_limit_is_413_before_authentication(server):
    head = request_head(
        "POST",
        "/file/upload",
        Content_Type="multipart/form-data; boundary=x",
        Content_Length=50 * MIB + 64 * 1024 + 1,
    )
    status, _headers, body = parsed(exchange(server, head, b"--x\r\n"))
    assert (status, body["code"]) == (413, 40000)
    assert body["message"] == "参数错误: file: 文件大小不能超过 50 MiB"


def test_chunked_body_is_cut_off_once_over_1_mib(server):
    head = request_head(
        "POST", "/login", Content_Type="application/json", Transfer_Encoding="chunked"
    )
    piece = b"x" * 65536
    chunks = (b"%x\r\n" % len(piece) + piece + b"\r\n") * 17  # 1,114,112 bytes, no last chunk
    status, _headers, body = parsed(exchange(server, head, chunks))
    assert (status, body["code"]) == (413, 40000)


def test_chunked_body_under_the_limit_is_read_to_its_end(server):
    # Django reads no body without a Content-Length (the view sees none); what matters here
    # is that it is read and answered, not refused.
    head = request_head(
        "POST", "/login", Content_Type="application/json", Transfer_Encoding="chunked"
    )
    raw = b"{" + b" " * 500_000 + b"}"
    answer = exchange(server, head, b"%x\r\n%s\r\n0\r\n\r\n" % (len(raw), raw), timeout=15)
    assert answer.startswith(b"HTTP/1.1 400 ")


def test_body_of_exactly_1_mib_is_accepted(server):
    head_json, tail = b'{"username": "alice", "password": "secret123", "pad": "', b'"}'
    raw = head_json + b"x" * (MIB - len(head_json) - len(tail)) + tail
    status, _headers, body = send(server, "POST", "/login", raw, Content_Type="application/json")
    assert (status, body["code"]) == (200, 20000)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"[" * 5000 + b"]" * 5000, "参数错误: 请求体嵌套超过 32 层"),
        (b'{"chat_type": "\\ud800", "content": "x"}', "参数错误: chat_type: 无效的 Unicode 字符"),
        (b"5", "参数错误: 请求体必须是 JSON 对象"),
        (b'{"content": "\xff"}', "参数错误: 请求体不是有效的 UTF-8"),
    ],
)
def test_hostile_json_is_40000_through_the_server(server, raw, message):
    status, headers, body = send(server, "POST", "/chat/send", raw, Content_Type="application/json")
    assert (status, body) == (400, {"code": 40000, "message": message})
    assert headers["content-type"] == "application/json"


def test_2000_query_parameters_unauthenticated_are_40000(server):
    query = "&".join(f"p{i}=1" for i in range(2000))
    status, _headers, body = send(server, "GET", f"/search?{query}")
    assert (status, body["code"]) == (400, 40000)
