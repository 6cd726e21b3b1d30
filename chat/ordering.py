"""The order of a message's edit and recall pushes (CONTRACT 10).

The message's row lock orders the writes: an edit that waits for a recall reads the message
recalled and is refused, so the message ends recalled whichever comes first. Pushes are another
matter: they are handed to the channel layer after the commit, possibly from other threads or
processes, and a request's pushes wait for the view to return (``imserver.publish``). Without
more, an edit committed just before a recall could reach a socket after the ``recall`` push and
show the text again.

``message_push_order`` closes that gap. Every edit and recall of a message runs inside it: a
lock on the message, taken before the transaction and released only once the block's pushes
have been handed to the channel layer (``imserver.publish.immediate_pushes`` sends them at
commit, inside the block). Whatever holds the lock next therefore pushes after them, and the
channel layer delivers pushes to a user's group in the order they were handed to it. A push to
more than ``DIRECT_MAX`` users travels on the fan-out group instead, another channel, so an
edit's push (to those who see the message) is routed as the recall's (to every participant)
with ``publish_on_commit(..., route_size=...)``: both always take the same route.

- PostgreSQL: a session-level advisory lock, ``pg_advisory_lock(NAMESPACE, key)``, shared by
  every server process on the database. ``key`` is the message id folded into 32 bits: two
  messages whose ids differ by a multiple of 2**32 share a lock, which only makes one wait for
  the other. A holder never takes a second ordering lock, so the locks cannot wait in a cycle,
  and a waiter holds no row lock yet: the block is entered outside any transaction.
  A holder lost with its host (power, network) keeps the lock until PostgreSQL ends its session:
  ``DB_TCP_KEEPALIVE_S`` after its host went silent, ``DB_IDLE_IN_TRANSACTION_TIMEOUT_S`` if it
  was lost inside its transaction (imserver/settings.py). A waiter gives up after ``LOCK_WAIT``,
  longer than both: the edit or recall fails with 50001 (PostgreSQL's ``lock_timeout``, an
  ``OperationalError``), which the client may retry, and nothing waits forever.
- Other databases (SQLite, one server process): one of ``LOCAL_STRIPES`` process-local locks,
  chosen by the message id.

Called inside a transaction of the caller's (a test's, say), the pushes wait for that outer
commit and leave the block unordered; requests, socket frames and the admin call the services
outside one.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

from imserver.publish import immediate_pushes

# The first key of the advisory locks of this module ("IM" + 1), apart from any other user of
# advisory locks on the database.
NAMESPACE = 0x494D0001
# The longest wait for a message's ordering lock, as PostgreSQL's lock_timeout.
LOCK_WAIT = "60s"
LOCAL_STRIPES = 64
_local_locks = [threading.Lock() for _ in range(LOCAL_STRIPES)]


def _folded(message_id: int) -> int:
    """The message id as a signed 32-bit integer (the second key of ``pg_advisory_lock``)."""
    low = message_id & 0xFFFFFFFF
    return low - 2**32 if low >= 2**31 else low


@contextmanager
def _message_lock(message_id: int) -> Iterator[None]:
    if connection.vendor != "postgresql":
        with _local_locks[message_id % LOCAL_STRIPES]:
            yield
        return
    key = [NAMESPACE, _folded(message_id)]
    with connection.cursor() as cursor:
        # The FROM item runs first. lock_timeout is set for this statement's own transaction
        # (for the rest of the caller's, inside one); the session-level lock outlives it.
        cursor.execute(
            "SELECT pg_advisory_lock(%s, %s) FROM set_config('lock_timeout', %s, true)",
            [*key, LOCK_WAIT],
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", key)


@contextmanager
def message_push_order(message_id: int) -> Iterator[None]:
    """Run an edit or recall of the message: its pushes are handed to the channel layer before
    the next edit or recall of the same message starts (see the module's docstring)."""
    with _message_lock(message_id), immediate_pushes():
        yield
