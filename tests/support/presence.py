"""Presence that sockets of an ended test leave behind."""

from realtime.presence import store_for


def forget_presence() -> None:
    """Start the next test with an empty in-memory presence store: a socket still open when its
    test's event loop ends never disconnects, and the next test may reuse its user's id. (Redis
    entries expire after ``IM_PRESENCE_TTL_S``; the tests that share Redis flush it.)"""
    store_for.cache_clear()
