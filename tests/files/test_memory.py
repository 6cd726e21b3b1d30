"""A 200 MiB upload (and its download) through the real server keeps memory bounded.

The server is a worker of the server entry point in its own process (tests/support/server.py,
with the daphne_streaming override); the body is generated and streamed with http.client, so
neither side ever holds it. The server's peak RSS comes from
/proc/<pid>/status: VmHWM, reset just before the transfer by writing 5 to clear_refs.
docs/files.md records the numbers and what they were without imserver/overrides/daphne_streaming.py.
"""

import contextlib
import hashlib
import http.client
import json
import random
import sys
import uuid
from pathlib import Path

import pytest

from tests.support.server import ServerProcess

MiB = 1024 * 1024
UPLOAD_BYTES = 200 * MiB
ALLOWED_GROWTH = 64 * MiB

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc/<pid>/status"
)


def memory_kib(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in {"VmRSS", "VmHWM"}:
            fields[key] = int(value.split()[0])
    return fields


def reset_peak(pid: int) -> None:
    """Make VmHWM restart from the current RSS (Linux >= 4.0); harmless where refused."""
    with contextlib.suppress(OSError):
        Path(f"/proc/{pid}/clear_refs").write_text("5")


def stream_upload(port: int, token: str, size: int) -> tuple[int, dict, str]:
    """POST a generated ``size``-byte file in 1 MiB writes; returns status, JSON and its MD5."""
    boundary = uuid.uuid4().hex
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    block = random.Random(7).randbytes(MiB)
    md5 = hashlib.md5(usedforsecurity=False)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    connection.putrequest("POST", "/file/upload")
    connection.putheader("Authorization", f"Bearer {token}")
    connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    connection.putheader("Content-Length", str(len(head) + size + len(tail)))
    connection.endheaders()
    connection.send(head)
    sent = 0
    while sent < size:
        piece = block[: min(MiB, size - sent)]
        connection.send(piece)
        md5.update(piece)
        sent += len(piece)
    connection.send(tail)
    response = connection.getresponse()
    body = json.loads(response.read())
    connection.close()
    return response.status, body, md5.hexdigest()


def stream_download(port: int, token: str, file_id: str) -> tuple[int, int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    connection.request(
        "GET", f"/file/download?file_id={file_id}", headers={"Authorization": f"Bearer {token}"}
    )
    response = connection.getresponse()
    md5, received = hashlib.md5(usedforsecurity=False), 0
    while chunk := response.read(MiB):
        md5.update(chunk)
        received += len(chunk)
    connection.close()
    return response.status, received, md5.hexdigest()


@pytest.fixture
def server(tmp_path):
    temp = tmp_path / "tmp"
    temp.mkdir()
    proc = ServerProcess(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'memory.sqlite3'}",
            "IM_STORAGE": "local",
            "IM_MEDIA_ROOT": str(tmp_path / "media"),
            "IM_MAX_UPLOAD_BYTES": str(256 * MiB),
            "IM_THROTTLE": "0",
            "TMPDIR": str(temp),
        }
    )
    proc.migrate()
    proc.start()
    yield proc
    proc.stop()


def test_a_200_mib_upload_and_download_stay_within_64_mib_of_the_baseline(server):
    body = {"username": "big", "password": "123456", "email": "big@example.com"}
    assert server.request("POST", "/register", body)[0] == 200
    token = server.request("POST", "/login", body)[1]["data"]["access_token"]
    pid = server.process.pid

    # Warm up every code path (imports, first queries) with a 1 MiB upload and its download.
    status, warm, _ = stream_upload(server.port, token, MiB)
    assert status == 200, warm
    assert stream_download(server.port, token, warm["data"]["file_id"])[0] == 200

    baseline = memory_kib(pid)["VmRSS"]
    reset_peak(pid)
    status, uploaded, md5 = stream_upload(server.port, token, UPLOAD_BYTES)
    after_upload = memory_kib(pid)["VmHWM"]
    assert status == 200, uploaded
    assert uploaded["data"]["file_size"] == UPLOAD_BYTES
    assert uploaded["data"]["etag"] == md5

    reset_peak(pid)
    status, received, downloaded_md5 = stream_download(
        server.port, token, uploaded["data"]["file_id"]
    )
    after_download = memory_kib(pid)["VmHWM"]
    assert (status, received, downloaded_md5) == (200, UPLOAD_BYTES, md5)

    growth = {
        "upload": (after_upload - baseline) * 1024,
        "download": (after_download - baseline) * 1024,
    }
    print(
        f"baseline RSS {baseline // 1024} MiB, peak growth MiB:",
        {key: round(value / MiB, 1) for key, value in growth.items()},
    )
    assert growth["upload"] < ALLOWED_GROWTH, growth
    assert growth["download"] < ALLOWED_GROWTH, growth
