"""``GET /healthz``: each backing service really used; a failure is a 503 naming the service."""

import socket
from pathlib import Path

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def use_file_storage_at(settings, location) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": location},
        },
    }


def test_healthy(api_client, settings, tmp_path):
    use_file_storage_at(settings, tmp_path)
    response = api_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "code": 20000,
        "message": "success",
        "data": {"database": "ok", "channel_layer": "ok", "storage": "ok"},
    }
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []  # the probe cleans up


def test_channel_layer_down_is_a_503_naming_it(api_client):
    unreachable = f"redis://127.0.0.1:{closed_port()}/0"
    layers = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [unreachable]},
        }
    }
    with override_settings(CHANNEL_LAYERS=layers):
        response = api_client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == 50001
    assert body["data"]["database"] == "ok"
    assert body["data"]["storage"] == "ok"
    assert body["data"]["channel_layer"].startswith("error: ")
    assert unreachable not in str(body)  # details go to the log, not to the caller

    # Back up: healthy again without a restart.
    assert api_client.get("/healthz").status_code == 200


def test_storage_down_is_a_503_naming_it(api_client, settings, tmp_path):
    blocker = Path(tmp_path / "not-a-directory")
    blocker.write_text("a file where the storage expects a directory")
    use_file_storage_at(settings, blocker)
    response = api_client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["data"]["storage"].startswith("error: ")
    assert response.json()["data"]["channel_layer"] == "ok"


def test_needs_no_token_and_only_answers_get(api_client):
    assert api_client.get("/healthz", HTTP_AUTHORIZATION="Bearer not-a-token").status_code == 200
    response = api_client.post("/healthz")
    assert response.status_code == 405
    assert response.json()["code"] == 40000
