"""Who is online: the one function every reader of ``online_status`` goes through.

Connections register themselves under ``presence:<user_id>`` in the cache (shared through Redis
when ``REDIS_URL`` is set). Until the WebSocket consumer lands nobody registers, so everyone
reads as offline.
"""

from collections.abc import Iterable

from django.core.cache import cache

ONLINE = 1
OFFLINE = 0


def presence_key(user_id: int) -> str:
    return f"presence:{user_id}"


def online_user_ids(user_ids: Iterable[int]) -> set[int]:
    ids = list(set(user_ids))
    if not ids:
        return set()
    found = cache.get_many([presence_key(user_id) for user_id in ids])
    return {user_id for user_id in ids if found.get(presence_key(user_id))}


def online_status(user_id: int) -> int:
    return ONLINE if online_user_ids([user_id]) else OFFLINE
