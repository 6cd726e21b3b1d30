"""The fan-out message: a push to many users costs one channel-layer message per server process
instead of one per recipient.

A push with more than ``DIRECT_MAX`` recipients goes once to ``FANOUT_GROUP`` instead of to each
user's own group, carrying the recipients' ids and the frame text; every server process listens
on that group and hands the text to its own sockets of those users (``realtime/fanout.py``).
Up to ``DIRECT_MAX`` recipients, no process sees a push that is not for its sockets.
"""

from typing import Any

FANOUT_GROUP = "im.fanout"
FANOUT_MESSAGE_TYPE = "fanout"
DIRECT_MAX = 8


def fanout_message(user_ids: list[int], text: str) -> dict[str, Any]:
    return {"type": FANOUT_MESSAGE_TYPE, "user_ids": user_ids, "text": text}
