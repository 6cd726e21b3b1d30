"""The same file tests against both storages: the local folder and a real S3 API (moto's server,
a separate process on a free loopback port, driven through django-storages and boto3)."""

import os
import socket
import struct
import subprocess
import sys
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest
from django.core.files.storage import storages
from rest_framework.test import APIClient

from tests.support.server import free_port

S3_CREDENTIALS = {"access_key": "testing", "secret_key": "testing", "region_name": "us-east-1"}


def make_png(width: int = 2, height: int = 2) -> bytes:
    """A real, decodable RGBA PNG of the given size (all pixels opaque red)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\xff\x00\x00\xff" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


class MotoServer:
    def __init__(self, tmp_dir: Path) -> None:
        self.port = free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self.log = (tmp_dir / "moto.log").open("wb")
        env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            cwd=tmp_dir,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("moto server exited; see its log in " + str(tmp_dir))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise TimeoutError("moto server did not listen")

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=S3_CREDENTIALS["access_key"],
            aws_secret_access_key=S3_CREDENTIALS["secret_key"],
            region_name=S3_CREDENTIALS["region_name"],
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = MotoServer(tmp_path_factory.mktemp("moto"))
    yield server
    server.stop()


class StorageUnderTest:
    """What a test needs to look behind the API: does the object exist, list what is stored."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    @property
    def storage(self):
        return storages["default"]

    def exists(self, name: str) -> bool:
        return self.storage.exists(name)

    def read(self, name: str) -> bytes:
        with self.storage.open(name, "rb") as handle:
            return handle.read()


@pytest.fixture(params=["local", "s3"])
def file_storage(request: pytest.FixtureRequest, settings, tmp_path: Path) -> StorageUnderTest:
    """Every test using this runs twice: local FileSystemStorage and S3 (moto server)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    if request.param == "local":
        backend = {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": settings.MEDIA_ROOT},
        }
    else:
        moto = request.getfixturevalue("moto_server")
        bucket = f"im-test-{uuid.uuid4().hex[:12]}"
        moto.client().create_bucket(Bucket=bucket)
        backend = {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                **S3_CREDENTIALS,
                "bucket_name": bucket,
                "endpoint_url": moto.endpoint_url,
                "file_overwrite": True,
            },
        }
    settings.STORAGES = {**settings.STORAGES, "default": backend}
    return StorageUnderTest(request.param)


@pytest.fixture
def upload(file_storage) -> Callable[..., dict]:
    """Upload ``content`` as ``name`` with ``client``; the JSON body plus ``_status``.

    ``extra`` are request headers (``HTTP_ACCEPT_LANGUAGE="en"``)."""

    def do(client: APIClient, content: bytes, name: str = "a.bin", **extra: object) -> dict:
        from django.core.files.uploadedfile import SimpleUploadedFile

        content_type = extra.pop("content_type", "application/octet-stream")
        part = SimpleUploadedFile(name, content, content_type=content_type)
        response = client.post("/file/upload", {"file": part}, format="multipart", **extra)
        body = response.json()
        body["_status"] = response.status_code
        return body

    return do
