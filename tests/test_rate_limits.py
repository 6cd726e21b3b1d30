"""Abuse limits answer 42900 (HTTP 429), are configurable, and IM_THROTTLE=0 turns them off."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.exceptions import Throttled
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from imserver.api.errors import AppError, ErrorCode
from imserver.api.exceptions import envelope_exception_handler
from imserver.api.throttling import TokenBucketLimit, _MemoryBuckets, parse_rate
from social.models import FriendRequest

pytestmark = pytest.mark.django_db


def register(client, n: int, **extra):
    body = {"username": f"reg{n}", "password": "123456", "email": f"reg{n}@e.com"}
    return client.post("/register", body, format="json", **extra)


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [("20/s", (20, 1)), ("60/min", (60, 60)), ("100/h", (100, 3600)), ("5/day", (5, 86400))],
)
def test_rates_parse(rate, parsed):
    assert parse_rate(rate) == parsed


@pytest.mark.parametrize("rate", ["", "x/s", "10", "10/fortnight"])
def test_bad_rates_are_refused(rate):
    with pytest.raises(ValueError):
        parse_rate(rate)


def test_registrations_are_limited_per_ip(api_client, settings):
    settings.IM_RATE_REGISTER_PER_IP = "3/h"
    assert [register(api_client, n).json()["code"] for n in range(3)] == [20000] * 3
    refused = register(api_client, 3)
    assert (refused.status_code, refused.json()["code"]) == (429, 42900)
    # A fixed window of an hour: the rest of it, whole seconds.
    assert 1 <= int(refused["Retry-After"]) <= 3600
    assert not User.objects.filter(username="reg3").exists()
    assert register(api_client, 4, REMOTE_ADDR="10.1.2.3").json()["code"] == 20000


def test_friend_requests_are_limited_per_user(make_user, client_for, settings):
    settings.IM_RATE_FRIEND_REQUESTS_PER_USER = "2/h"
    me, targets = make_user("me"), [make_user() for _ in range(3)]
    client = client_for(me)
    codes = [
        client.post("/friend/request/send", {"to_user_id": t.pk}, format="json").json()["code"]
        for t in targets
    ]
    assert codes == [20000, 20000, 42900]
    assert FriendRequest.objects.count() == 2
    # Another user has their own budget.
    other = client_for(targets[0]).post(
        "/friend/request/send", {"to_user_id": targets[1].pk}, format="json"
    )
    assert other.json()["code"] == 20000


def test_uploads_are_limited_per_user(make_user, client_for, settings, tmp_path):
    settings.IM_RATE_UPLOADS_PER_USER = "2/min"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path},
        },
    }
    client = client_for(make_user("me"))

    def upload():
        part = SimpleUploadedFile("a.txt", b"hello", content_type="text/plain")
        return client.post("/file/upload", {"file": part}, format="multipart")

    assert [upload().json()["code"] for _ in range(3)] == [20000, 20000, 42900]


def test_im_throttle_0_turns_every_limit_off(api_client, settings):
    settings.IM_THROTTLE = False
    settings.IM_RATE_REGISTER_PER_IP = "1/h"
    assert [register(api_client, n).json()["code"] for n in range(3)] == [20000] * 3


def test_failed_login_refusals_carry_retry_after(api_client, make_user, settings):
    settings.IM_LOGIN_FAILURES_PER_IP = 1
    api_client.post("/login", {"username": "nobody", "password": "wrong1"}, format="json")
    refused = api_client.post("/login", {"username": "nobody", "password": "x"}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (429, 42900)
    assert int(refused["Retry-After"]) >= 1


@pytest.mark.parametrize(
    ("exc", "retry_after"),
    [
        (AppError(ErrorCode.RATE_LIMITED), "1"),  # a refusal that does not say when
        (AppError(ErrorCode.RATE_LIMITED, retry_after=7), "7"),
        (Throttled(wait=0.2), "1"),  # rounded up, never 0
        (Throttled(wait=2.5), "3"),
        (Throttled(), "1"),
    ],
)
def test_every_42900_carries_retry_after(exc, retry_after):
    response = envelope_exception_handler(exc, {"view": APIView()})
    assert (response.status_code, response.data["code"]) == (429, 42900)
    assert response["Retry-After"] == retry_after


def test_other_errors_carry_no_retry_after():
    response = envelope_exception_handler(AppError(ErrorCode.FORBIDDEN), {"view": APIView()})
    assert isinstance(response, Response) and "Retry-After" not in response


# --- the token bucket of messages per user (CONTRACT 12), on both backends --------------------


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.requires_redis)])
def bucket_backend(request, settings) -> str:
    """The in-process buckets (REDIS_URL unset) or Redis (the test run's REDIS_URL)."""
    if request.param == "memory":
        settings.REDIS_URL = ""
    return request.param


def refusal(limit: TokenBucketLimit, identity: object) -> AppError | None:
    try:
        limit.hit(identity)
    except AppError as exc:
        return exc
    return None


def test_bucket_allows_a_burst_of_its_size_then_refuses(bucket_backend, settings):
    settings.IM_TEST_RATE = "5/min"
    limit = TokenBucketLimit("test", "IM_TEST_RATE")
    assert [refusal(limit, 1) for _ in range(5)] == [None] * 5
    refused = refusal(limit, 1)
    assert refused is not None and refused.error_code == ErrorCode.RATE_LIMITED
    # One token every 12 s, and the burst took the first of them just now.
    assert refused.wait == 12
    assert refusal(limit, 2) is None  # another identity has its own bucket


def test_bucket_refills_at_its_rate(bucket_backend, settings):
    settings.IM_TEST_RATE = "4/s"  # a token every 250 ms
    limit = TokenBucketLimit("test", "IM_TEST_RATE")
    assert [refusal(limit, 1) is None for _ in range(5)] == [True] * 4 + [False]
    time.sleep(0.3)
    # One token back (the second comes 250 ms later), not a new window of 4.
    assert [refusal(limit, 1) is None for _ in range(2)] == [True, False]
    assert refusal(limit, 1).wait == 1  # the shortest Retry-After is a second


def test_bucket_takes_exactly_its_size_under_concurrent_hits(bucket_backend, settings):
    settings.IM_TEST_RATE = "20/min"  # no refill within the test
    limit = TokenBucketLimit("test", "IM_TEST_RATE")
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: refusal(limit, 1) is None, range(60)))
    assert results.count(True) == 20


def test_bucket_is_off_with_im_throttle_0(bucket_backend, settings):
    settings.IM_THROTTLE = False
    settings.IM_TEST_RATE = "1/h"
    limit = TokenBucketLimit("test", "IM_TEST_RATE")
    assert [refusal(limit, 1) for _ in range(5)] == [None] * 5


@pytest.mark.requires_redis
def test_redis_bucket_expires_when_full_and_a_refusal_stores_nothing(settings):
    settings.IM_TEST_RATE = "2/min"  # a token every 30 s
    limit = TokenBucketLimit("test", "IM_TEST_RATE")
    client = redis.Redis.from_url(settings.REDIS_URL)
    key = limit._key("1")
    limit.hit(1)
    assert 29_000 < client.pttl(key) <= 30_000  # full again in 30 s
    limit.hit(1)
    assert 59_000 < client.pttl(key) <= 60_000
    stored = client.get(key)
    assert refusal(limit, 1) is not None
    assert client.get(key) == stored


def test_memory_buckets_forget_full_buckets():
    buckets = _MemoryBuckets()
    for n in range(_MemoryBuckets._MIN_SWEEP - 1):
        assert buckets.take(f"k{n}", 1, 1) == 0  # full again a microsecond later
    time.sleep(0.01)
    buckets.take("last", 10**9, 1)  # the sweep runs as the dictionary reaches its size
    assert list(buckets._tat) == ["last"]
