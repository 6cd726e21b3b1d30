"""Rate limits, shared by every process when ``REDIS_URL`` is set.

- ``RateLimit`` and ``FailureLimiter``: a fixed window, an atomic counter in the cache per
  identity and window, expiring with it.
- ``TokenBucketLimit``: a token bucket (GCRA), for limits where a fixed window's twice the
  burst across a window boundary matters: on Redis one script run per action, else a
  dictionary in this process (the in-memory defaults serve one process).

Limits are read from settings on every call, so operators (and tests) can change them;
``IM_THROTTLE=0`` turns every limit off. Every refusal is 42900 with a retry-after in seconds.
"""

import math
import threading
import time
from dataclasses import dataclass
from functools import cache as memoize

import redis
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from redis.commands.core import Script
from rest_framework.request import Request

from imserver import metrics
from imserver.api.errors import AppError, ErrorCode

PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def client_ip(request: Request | HttpRequest) -> str:
    """The peer address. Behind a proxy, run daphne with --proxy-headers (see README)."""
    return request.META.get("REMOTE_ADDR") or "unknown"


def parse_rate(rate: str) -> tuple[int, int]:
    """``"20/s"``, ``"60/min"``, ``"100/h"``, ``"500/day"`` -> (count, window seconds)."""
    count, _, period = rate.partition("/")
    seconds = PERIOD_SECONDS.get(period.strip()[:1].lower())
    if not count.strip().isdigit() or seconds is None:
        raise ValueError(f"rate must look like '20/s', '60/min', '100/h' or '500/day': {rate!r}")
    return int(count), seconds


def _window_key(scope: str, identity: str, window_s: int) -> str:
    return f"limit:{scope}:{identity}:{int(time.time() // window_s)}"


def _seconds_left_in_window(window_s: int) -> int:
    """Whole seconds until the current fixed window (see ``_window_key``) ends, at least 1."""
    return max(1, math.ceil(window_s - time.time() % window_s))


def rate_limited(scope: str, retry_after_s: int) -> AppError:
    """The refusal of the limit ``scope``, counted (``imserver_rate_limit_refusals_total``)."""
    metrics.rate_limit_refused(scope)
    return AppError(ErrorCode.RATE_LIMITED, retry_after=retry_after_s)


def _count(key: str, window_s: int) -> int:
    cache.add(key, 0, timeout=window_s + 1)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window_s + 1)
        return 1


@dataclass(frozen=True)
class RateLimit:
    """At most N actions per identity per window; the N+1st is refused with 42900."""

    scope: str
    rate_setting: str  # the name of a setting holding e.g. "20/s"

    def hit(self, identity: object) -> None:
        if not settings.IM_THROTTLE:
            return
        limit, window_s = parse_rate(getattr(settings, self.rate_setting))
        if _count(_window_key(self.scope, str(identity), window_s), window_s) > limit:
            raise rate_limited(self.scope, _seconds_left_in_window(window_s))


@dataclass(frozen=True)
class FailureLimiter:
    """Counts failures per identity in a fixed window of ``window_s``; an identity with
    ``limit`` of them is blocked until the window ends. Whether a blocked identity is refused
    is the caller's rule (``accounts.services``: a user's limit never refuses a correct
    password from an address without failures)."""

    scope: str
    limit_setting: str
    window_setting: str

    def _key(self, identity: str) -> str:
        return _window_key(self.scope, identity, getattr(settings, self.window_setting))

    def failures(self, identity: str) -> int:
        """Failures recorded in the current window; always 0 with ``IM_THROTTLE=0``."""
        if not settings.IM_THROTTLE:
            return 0
        return cache.get(self._key(identity)) or 0

    def blocks(self, failures: int) -> bool:
        """Whether ``failures`` (from ``failures()``) reach the limit."""
        throttle: bool = settings.IM_THROTTLE
        limit: int = getattr(settings, self.limit_setting)
        return throttle and failures >= limit

    def is_blocked(self, identity: str) -> bool:
        return self.blocks(self.failures(identity))

    def record_failure(self, identity: str) -> None:
        if settings.IM_THROTTLE:
            _count(self._key(identity), getattr(settings, self.window_setting))

    def retry_after(self) -> int:
        """Seconds until a blocked identity may try again: the end of the current window."""
        return _seconds_left_in_window(getattr(settings, self.window_setting))


# --- Token buckets (GCRA) ---------------------------------------------------------------------
# A bucket of ``burst`` tokens refilled at one token per ``interval`` is kept as one number,
# the theoretical arrival time (TAT): when the bucket will be full again. An action at ``now``
# takes a token: ``new_tat = max(tat, now) + interval``; it is allowed while
# ``new_tat - burst * interval <= now`` (at most ``burst`` tokens used). Times are whole
# microseconds, so ``burst`` actions at the same instant are allowed exactly.

_MICROS = 1_000_000

# KEYS[1] the bucket; ARGV[1] interval, ARGV[2] burst (integers). Returns 0 when allowed,
# else the microseconds until a token is free. Redis's own clock (TIME) is the only clock, so
# processes on hosts whose clocks differ count one bucket together. A stored TAT in the past
# is a full bucket, so the key expires when the bucket is full again.
_TAKE_SCRIPT = """
if redis.replicate_commands then
  redis.replicate_commands()  -- Redis before 5: a write after TIME needs effect replication
end
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then
  tat = now
end
local new_tat = tat + interval
local allowed_at = new_tat - burst * interval
if allowed_at > now then
  return allowed_at - now
end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX',
  math.ceil((new_tat - now) / 1000))
return 0
"""


@memoize
def _redis_take_script(url: str) -> Script:
    """The registered script on a client of ``url`` (thread-safe: its pool hands each call
    its own connection; EVALSHA, loading the script again after a Redis restart)."""
    return redis.Redis.from_url(url).register_script(_TAKE_SCRIPT)


def _redis_take(key: str, interval_us: int, burst: int) -> int:
    return int(_redis_take_script(settings.REDIS_URL)(keys=[key], args=[interval_us, burst]))


class _MemoryBuckets:
    """The TAT of each bucket in this process, under one lock."""

    _MIN_SWEEP = 1024

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tat: dict[str, int] = {}
        self._sweep_at = self._MIN_SWEEP

    def take(self, key: str, interval_us: int, burst: int) -> int:
        now = time.monotonic_ns() // 1000
        with self._lock:
            new_tat = max(self._tat.get(key, now), now) + interval_us
            allowed_at = new_tat - burst * interval_us
            if allowed_at > now:
                return allowed_at - now
            self._tat[key] = new_tat
            if len(self._tat) >= self._sweep_at:
                self._sweep(now)
        return 0

    def _sweep(self, now: int) -> None:
        """Forget full buckets (TAT passed), which are the same as absent ones. The next sweep
        waits until the dictionary has doubled, so sweeping costs amortized O(1) per action."""
        self._tat = {key: tat for key, tat in self._tat.items() if tat > now}
        self._sweep_at = max(self._MIN_SWEEP, 2 * len(self._tat))

    def clear(self) -> None:
        with self._lock:
            self._tat.clear()


_memory_buckets = _MemoryBuckets()


def clear_memory_buckets() -> None:
    """Empty every in-process bucket (tests; Redis buckets go with the cache's database)."""
    _memory_buckets.clear()


@dataclass(frozen=True)
class TokenBucketLimit:
    """At most N actions per identity per window on average, N of them at once (the burst);
    one more is refused with 42900 and the seconds until a token is free."""

    scope: str
    rate_setting: str  # the name of a setting holding e.g. "20/s"

    def _key(self, identity: str) -> str:
        # The cache's key prefix and version, as the fixed windows have.
        return cache.make_key(f"bucket:{self.scope}:{identity}")

    def hit(self, identity: object) -> None:
        if not settings.IM_THROTTLE:
            return
        burst, window_s = parse_rate(getattr(settings, self.rate_setting))
        if burst < 1:  # a rate of 0 allows nothing
            raise rate_limited(self.scope, window_s)
        interval_us = max(1, window_s * _MICROS // burst)
        take = _redis_take if settings.REDIS_URL else _memory_buckets.take
        wait_us = take(self._key(str(identity)), interval_us, burst)
        if wait_us > 0:
            raise rate_limited(self.scope, max(1, math.ceil(wait_us / _MICROS)))


login_failures_by_ip = FailureLimiter(
    "login-failure-ip", "IM_LOGIN_FAILURES_PER_IP", "IM_LOGIN_FAILURE_WINDOW_S"
)
# Per account: failed logins by username or email and wrong ``old_password`` on a password
# change count together (the identity is the user's id; a name no account has counts by name).
login_failures_by_user = FailureLimiter(
    "login-failure-user", "IM_LOGIN_FAILURES_PER_USERNAME", "IM_LOGIN_FAILURE_WINDOW_S"
)
# Every login attempt from an address (each may cost a password hash), and successful logins
# per user (only someone holding the password can spend those, so nobody else can use them up).
logins_by_ip = RateLimit("login-attempt-ip", "IM_RATE_LOGIN_PER_IP")
logins_by_user = RateLimit("login-success-user", "IM_RATE_LOGIN_PER_USER")
# Every refresh from an address, and refreshes per user of a validly signed refresh token.
refreshes_by_ip = RateLimit("refresh-ip", "IM_RATE_REFRESH_PER_IP")
refreshes_by_user = RateLimit("refresh-user", "IM_RATE_REFRESH_PER_USER")
registrations_by_ip = RateLimit("register-ip", "IM_RATE_REGISTER_PER_IP")
messages_by_user = TokenBucketLimit("message-user", "IM_RATE_MESSAGES_PER_USER")
friend_requests_by_user = RateLimit("friend-request-user", "IM_RATE_FRIEND_REQUESTS_PER_USER")
uploads_by_user = RateLimit("upload-user", "IM_RATE_UPLOADS_PER_USER")
