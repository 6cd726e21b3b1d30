"""Counting limits kept in the cache (Redis when ``REDIS_URL`` is set, so shared by processes)."""

from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request


def client_ip(request: Request) -> str:
    """The peer address. Behind a proxy, the proxy must set REMOTE_ADDR (see README)."""
    return request.META.get("REMOTE_ADDR") or "unknown"


@dataclass(frozen=True)
class FailureLimiter:
    """At most ``limit`` recorded failures per identity in a fixed window of ``window_s``.

    ``limit_setting`` and ``window_setting`` name Django settings, read on every call so that
    operators (and tests) can change them; ``IM_THROTTLE=0`` disables every limiter.
    """

    scope: str
    limit_setting: str
    window_setting: str

    def _key(self, identity: str) -> str:
        return f"limit:{self.scope}:{identity}"

    def is_blocked(self, identity: str) -> bool:
        if not settings.IM_THROTTLE:
            return False
        return (cache.get(self._key(identity)) or 0) >= getattr(settings, self.limit_setting)

    def record_failure(self, identity: str) -> None:
        if not settings.IM_THROTTLE:
            return
        key = self._key(identity)
        cache.add(key, 0, timeout=getattr(settings, self.window_setting))
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=getattr(settings, self.window_setting))

    def reset(self, identity: str) -> None:
        cache.delete(self._key(identity))


login_failures_by_ip = FailureLimiter(
    "login-ip", "IM_LOGIN_FAILURES_PER_IP", "IM_LOGIN_FAILURE_WINDOW_S"
)
login_failures_by_username = FailureLimiter(
    "login-username", "IM_LOGIN_FAILURES_PER_USERNAME", "IM_LOGIN_FAILURE_WINDOW_S"
)
