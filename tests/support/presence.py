"""Presence that sockets of an ended test leave behind."""

from django.conf import settings

from realtime.presence import store_for


def forget_presence() -> None:
    """Start the next test with an empty in-memory presence store: a socket still open when its
    test's event loop ends never disconnects, and the next test may reuse its user's id. The
    Redis store is kept (a new client per test would leave the old one's connections behind):
    its entries expire after ``IM_PRESENCE_TTL_S``, and the tests that share Redis flush it."""
    if not settings.REDIS_URL:
        store_for.cache_clear()
