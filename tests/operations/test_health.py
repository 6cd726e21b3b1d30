"""``GET /healthz``: each backing service really used; a failure is a 503 naming the service;
its result cached for ``IM_HEALTHZ_CACHE_S`` per process. ``GET /livez``: no backing service."""

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import override_settings

from imserver import health

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_health_results(settings) -> Iterator[None]:
    """Every test sees its own settings' services: no result cached by an earlier test, and
    none cached during the test unless it sets ``IM_HEALTHZ_CACHE_S`` itself."""
    settings.IM_HEALTHZ_CACHE_S = 0
    health.clear_health_cache()
    yield
    health.clear_health_cache()


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


# --- /livez -----------------------------------------------------------------------------------


def test_livez_touches_no_backing_service(
    api_client, settings, tmp_path, django_assert_num_queries
):
    blocker = Path(tmp_path / "not-a-directory")
    blocker.write_text("a file where the storage expects a directory")
    use_file_storage_at(settings, blocker)
    layers = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [f"redis://127.0.0.1:{closed_port()}/0"]},
        }
    }
    with override_settings(CHANNEL_LAYERS=layers), django_assert_num_queries(0):
        response = api_client.get("/livez", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert response.status_code == 200
    assert response.json() == {"code": 20000, "message": "success", "data": {"process": "ok"}}
    assert api_client.post("/livez").status_code == 405


# --- caching ----------------------------------------------------------------------------------


@pytest.fixture
def counted_checks(monkeypatch) -> dict[str, int]:
    """Replace the checks with fakes that count their calls (and take a little time)."""
    calls = {"database": 0, "channel_layer": 0, "storage": 0}

    def fake(name: str):
        def check() -> None:
            calls[name] += 1
            time.sleep(0.05)

        return check

    monkeypatch.setattr(health, "CHECKS", {name: fake(name) for name in calls})
    return calls


def test_healthz_checks_at_most_once_per_interval(api_client, settings, counted_checks):
    settings.IM_HEALTHZ_CACHE_S = 0.5
    for _ in range(20):
        assert api_client.get("/healthz").json()["data"] == {
            "database": "ok",
            "channel_layer": "ok",
            "storage": "ok",
        }
    assert counted_checks == {"database": 1, "channel_layer": 1, "storage": 1}
    time.sleep(0.6)
    assert api_client.get("/healthz").status_code == 200
    assert counted_checks["storage"] == 2


def test_concurrent_probes_share_one_round_of_checks(settings, counted_checks):
    settings.IM_HEALTHZ_CACHE_S = 30
    barrier = threading.Barrier(16)
    answers = []

    def probe() -> None:
        barrier.wait()
        answers.append(health._cached_results.get())

    threads = [threading.Thread(target=probe) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 16 and all(a["storage"] == "ok" for a in answers)
    assert counted_checks == {"database": 1, "channel_layer": 1, "storage": 1}


def test_a_failure_is_cached_too_and_clears_after_the_interval(
    api_client, settings, monkeypatch, counted_checks
):
    settings.IM_HEALTHZ_CACHE_S = 0.3

    def broken() -> None:
        raise OSError("disk gone")

    checks = dict(health.CHECKS)
    monkeypatch.setitem(health.CHECKS, "storage", broken)
    assert api_client.get("/healthz").status_code == 503
    monkeypatch.setattr(health, "CHECKS", checks)
    assert api_client.get("/healthz").status_code == 503  # the same round, within the interval
    time.sleep(0.4)
    assert api_client.get("/healthz").status_code == 200


def test_healthz_caching_is_on_by_default():
    from imserver import settings as defaults

    assert defaults.IM_HEALTHZ_CACHE_S == 5
