"""Fixtures shared by every test: users, authenticated clients, a push recorder, markers."""

import os
import shutil
from collections.abc import Callable, Iterator
from itertools import count

import pytest
from asgiref.sync import async_to_sync
from channels.layers import channel_layers
from django.core.cache import cache
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tokens import token_pair_for_user
from imserver.api.throttling import clear_memory_buckets
from realtime.presence import presence_store
from tests.support.pushes import PushRecorder

TEST_PASSWORD = "secret123"
_user_numbers = count(1)


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    """The cache and the in-process rate-limit buckets start empty (user ids are reused)."""
    cache.clear()
    clear_memory_buckets()
    yield
    cache.clear()
    clear_memory_buckets()


@pytest.fixture(autouse=True)
def _fresh_channel_layer() -> Iterator[None]:
    """A new channel-layer instance per test: the Redis layer binds its receive lock to the
    event loop that first waits on it, and every async test runs its own loop."""
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def make_user(db) -> Callable[..., User]:
    def make(username: str | None = None, **fields: object) -> User:
        number = next(_user_numbers)
        username = username or f"user{number}"
        fields.setdefault("email", f"{username}@example.com")
        fields.setdefault("nickname", username)
        password = fields.pop("password", TEST_PASSWORD)
        user = User(username=username, **fields)
        user.set_password(password)
        user.save()
        return user

    return make


@pytest.fixture
def staff_client(make_user) -> Client:
    """A Django test client logged in to the admin as a superuser."""
    client = Client()
    client.force_login(make_user("staff", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def client_for() -> Callable[[User], APIClient]:
    """An API client authenticated as the given user with a fresh access token."""

    def make(user: User) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_pair_for_user(user)['access_token']}")
        return client

    return make


@pytest.fixture
def push_recorder() -> Iterator[PushRecorder]:
    recorder = PushRecorder()
    yield recorder
    recorder.close()


@pytest.fixture
def mark_online() -> Iterator[Callable[[int], None]]:
    """Register a (pretend) open connection for a user in the real presence store."""
    store = presence_store()
    marked: list[int] = []

    def mark(user_id: int) -> None:
        async_to_sync(store.connect)(user_id, f"test-connection-{user_id}")
        marked.append(user_id)

    yield mark
    for user_id in marked:
        async_to_sync(store.disconnect)(user_id, f"test-connection-{user_id}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    on_postgres = connection.vendor == "postgresql"
    has_browser = bool(shutil.which("chromium") and shutil.which("chromedriver"))
    for item in items:
        if "requires_browser" in item.keywords and not has_browser:
            item.add_marker(pytest.mark.skip(reason="chromium/chromedriver are not installed"))
        if "requires_redis" in item.keywords and not os.environ.get("REDIS_URL"):
            item.add_marker(pytest.mark.skip(reason="REDIS_URL is not set"))
        if "requires_postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="DATABASE_URL is not PostgreSQL"))


# --- IM_TEST_FORBID_SKIPS=1 (set by .ci/run on PostgreSQL + Redis): any skip fails the run ----
_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("IM_TEST_FORBID_SKIPS") == "1" and _skipped:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if os.environ.get("IM_TEST_FORBID_SKIPS") == "1" and _skipped:
        terminalreporter.write_line(
            f"IM_TEST_FORBID_SKIPS: {len(_skipped)} test(s) skipped, which this run forbids:",
            red=True,
        )
        for nodeid in _skipped:
            terminalreporter.write_line(f"  {nodeid}", red=True)
