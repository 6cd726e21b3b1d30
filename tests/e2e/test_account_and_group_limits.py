"""The REST limits of CONTRACT 12 and docs/security.md as a client sees them through a real
server process: login and refresh rates, failed logins that lock nobody out, the group limits
and the storage quota; each refusal in the envelope, every 42900 with ``Retry-After``."""

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.ws_clients import PASSWORD, User
from tests.support.server import ServerProcess, sqlite_server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    process = sqlite_server(
        tmp_path,
        REDIS_URL="",
        CHANNEL_LAYER_REDIS_URL="",
        IM_THROTTLE="1",
        IM_RATE_REGISTER_PER_IP="100/h",
        IM_RATE_LOGIN_PER_USER="3/h",
        IM_RATE_REFRESH_PER_USER="2/h",
        IM_LOGIN_FAILURES_PER_USERNAME="3",
        IM_RATE_GROUP_CREATE_PER_USER="2/h",
        IM_STORAGE_QUOTA_BYTES="1500",
    ).start()
    yield process
    process.stop()


def call(
    server: ServerProcess,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict, dict[str, str]]:
    """Status, envelope and headers of one request."""
    request = urllib.request.Request(server.base_url + path, data=body, method=method)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), dict(error.headers)


def post_json(server: ServerProcess, path: str, body: dict, token: str | None = None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return call(server, "POST", path, json.dumps(body).encode(), headers)


def assert_rate_limited(answer: tuple[int, dict, dict[str, str]]) -> None:
    status, envelope, headers = answer
    assert (status, envelope["code"]) == (429, 42900), envelope
    # Header names are case-insensitive (uvicorn sends them in lower case).
    assert int({name.lower(): value for name, value in headers.items()}["retry-after"]) >= 1


def test_logins_and_refreshes_are_limited_and_failures_lock_nobody_out(server):
    alice = User(server, "alice")  # one login
    for _ in range(2):
        alice.login()
    assert_rate_limited(post_json(server, "/login", {"username": "alice", "password": PASSWORD}))

    bob = User(server, "bob")
    for _ in range(2):
        status, answer, _headers = post_json(
            server, "/refresh_token", {"refresh_token": bob.refresh_token}
        )
        assert answer["code"] == 20000, answer
        bob.refresh_token = answer["data"]["refresh_token"]
    assert_rate_limited(post_json(server, "/refresh_token", {"refresh_token": bob.refresh_token}))

    # Failed logins per account: past the limit, an address that failed is refused even with
    # the right password (an address without failures still gets in: tests/accounts).
    User(server, "carol")
    for _ in range(3):
        status, answer, _headers = post_json(
            server, "/login", {"username": "carol", "password": "wrong-one"}
        )
        assert (status, answer["code"]) == (401, 40001)
    assert_rate_limited(post_json(server, "/login", {"username": "carol", "password": PASSWORD}))


def multipart(content: bytes, name: str = "a.bin") -> tuple[bytes, str]:
    boundary = "im-e2e-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def test_group_creation_limit_and_storage_quota(server):
    alice = User(server, "alice")
    for n in range(2):
        assert alice.call("POST", "/group/create", {"group_name": f"g{n}"})["group_id"]
    assert_rate_limited(post_json(server, "/group/create", {"group_name": "g3"}, alice.token))

    def upload(size: int):
        body, content_type = multipart(b"x" * size)
        headers = {"Content-Type": content_type, "Authorization": f"Bearer {alice.token}"}
        return call(server, "POST", "/file/upload", body, headers)

    assert upload(1000)[1]["code"] == 20000
    status, answer, _headers = upload(501)
    assert (status, answer["code"]) == (413, 40000), answer
    assert upload(500)[1]["code"] == 20000  # exactly at the quota
