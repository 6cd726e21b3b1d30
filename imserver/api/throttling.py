"""Rate limits counted in the cache (Redis when ``REDIS_URL`` is set, so shared by processes).

Each limit is a fixed window: an atomic counter per identity and window, expiring with it.
Limits are read from settings on every call, so operators (and tests) can change them;
``IM_THROTTLE=0`` turns every limit off.
"""

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request

from imserver.api.errors import AppError, ErrorCode

PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def client_ip(request: Request) -> str:
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
            raise AppError(ErrorCode.RATE_LIMITED)


@dataclass(frozen=True)
class FailureLimiter:
    """At most ``limit`` recorded failures per identity in a fixed window of ``window_s``."""

    scope: str
    limit_setting: str
    window_setting: str

    def _key(self, identity: str) -> str:
        return _window_key(self.scope, identity, getattr(settings, self.window_setting))

    def is_blocked(self, identity: str) -> bool:
        if not settings.IM_THROTTLE:
            return False
        return (cache.get(self._key(identity)) or 0) >= getattr(settings, self.limit_setting)

    def record_failure(self, identity: str) -> None:
        if settings.IM_THROTTLE:
            _count(self._key(identity), getattr(settings, self.window_setting))

    def reset(self, identity: str) -> None:
        cache.delete(self._key(identity))


login_failures_by_ip = FailureLimiter(
    "login-ip", "IM_LOGIN_FAILURES_PER_IP", "IM_LOGIN_FAILURE_WINDOW_S"
)
login_failures_by_username = FailureLimiter(
    "login-username", "IM_LOGIN_FAILURES_PER_USERNAME", "IM_LOGIN_FAILURE_WINDOW_S"
)
registrations_by_ip = RateLimit("register-ip", "IM_RATE_REGISTER_PER_IP")
messages_by_user = RateLimit("message-user", "IM_RATE_MESSAGES_PER_USER")
friend_requests_by_user = RateLimit("friend-request-user", "IM_RATE_FRIEND_REQUESTS_PER_USER")
uploads_by_user = RateLimit("upload-user", "IM_RATE_UPLOADS_PER_USER")
