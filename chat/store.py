"""The statements of a send, written out because they run for every message.

A send is four statements in one transaction, the same SQL on PostgreSQL and SQLite (3.35+):

1. ``claim_seq``: ``UPDATE ... SET last_seq = last_seq + 1 ... RETURNING`` takes the
   conversation's row lock and its next ``seq`` in one round trip, so concurrent senders queue
   on the row and ``seq`` has neither gaps nor duplicates;
2. ``insert_message``: ``ON CONFLICT DO NOTHING``, so a repeated ``client_msg_id`` inserts
   nothing (the caller then rolls the claim back and returns the first message);
3. ``set_last_message``;
4. ``upsert_positions``: the sender has read up to their message, and a private peer gets a list
   entry when missing, in one ``INSERT ... ON CONFLICT DO UPDATE``.

Through the ORM the same send took fourteen statements (profiles in docs/benchmarks).
"""

from datetime import datetime

from django.db import connection

from chat.models import ChatType, Conversation, ConversationMember, Message

_CONVERSATION = Conversation._meta.db_table
_MESSAGE = Message._meta.db_table
_MEMBER = ConversationMember._meta.db_table
_FILE = Message._meta.get_field("file")  # a UUID key: stored as text on SQLite

_CLAIM_PRIVATE = (
    f"UPDATE {_CONVERSATION} SET last_seq = last_seq + 1, updated_at = %s "
    f"WHERE type = {int(ChatType.PRIVATE)} AND user_low_id = %s AND user_high_id = %s "
    "RETURNING id, last_seq"
)
_CLAIM_GROUP = (
    f"UPDATE {_CONVERSATION} SET last_seq = last_seq + 1, updated_at = %s "
    "WHERE group_id = %s RETURNING id, last_seq"
)
_INSERT_MESSAGE = (
    f"INSERT INTO {_MESSAGE} (conversation_id, seq, sender_id, to_user_id, group_id, type, "
    "content, file_id, status, client_msg_id, created_at) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING id"
)
_SET_LAST_MESSAGE = f"UPDATE {_CONVERSATION} SET last_message_id = %s WHERE id = %s"
_POSITION_ROW = "(%s, %s, %s, %s, %s, %s, %s)"
_UPSERT_POSITIONS = (
    f"INSERT INTO {_MEMBER} "
    "(user_id, conversation_id, read_seq, clear_seq, is_pinned, created_at, updated_at) "
    "VALUES {rows} ON CONFLICT (user_id, conversation_id) DO UPDATE SET "
    f"read_seq = CASE WHEN {_MEMBER}.read_seq < excluded.read_seq "
    f"THEN excluded.read_seq ELSE {_MEMBER}.read_seq END, updated_at = excluded.updated_at "
    "WHERE excluded.user_id = %s"
)


def _db_time(moment: datetime) -> object:
    return connection.ops.adapt_datetimefield_value(moment)


def claim_seq(
    *, pair: tuple[int, int] | None, group_id: int | None, now: datetime
) -> tuple[int, int] | None:
    """Lock the private (``pair``) or group conversation and take its next ``seq``:
    ``(conversation_id, seq)``, or None when the conversation does not exist yet."""
    with connection.cursor() as cursor:
        if pair is not None:
            cursor.execute(_CLAIM_PRIVATE, [_db_time(now), pair[0], pair[1]])
        else:
            cursor.execute(_CLAIM_GROUP, [_db_time(now), group_id])
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None


def insert_message(message: Message) -> int | None:
    """Insert ``message``; its id, or None when its ``client_msg_id`` is already taken."""
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT_MESSAGE,
            [
                message.conversation_id,
                message.seq,
                message.sender_id,
                message.to_user_id,
                message.group_id,
                message.type,
                message.content,
                _FILE.get_db_prep_save(message.file_id, connection),
                message.status,
                message.client_msg_id,
                _db_time(message.created_at),
            ],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    message._state.adding, message._state.db = False, connection.alias  # as if saved
    return row[0]


def set_last_message(*, conversation_id: int, message_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_SET_LAST_MESSAGE, [message_id, conversation_id])


def upsert_positions(
    *,
    conversation_id: int,
    sender_id: int,
    seq: int,
    sender_clear_seq: int,
    peer_id: int | None,
    now: datetime,
) -> None:
    """The sender's ``read_seq`` moves up to ``seq`` (the entry is created with
    ``sender_clear_seq`` when missing); the peer's entry is only created when missing."""
    moment = _db_time(now)
    rows = [(sender_id, conversation_id, seq, sender_clear_seq, False, moment, moment)]
    if peer_id is not None:
        rows.append((peer_id, conversation_id, 0, 0, False, moment, moment))
    sql = _UPSERT_POSITIONS.format(rows=", ".join([_POSITION_ROW] * len(rows)))
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for row in rows for value in row] + [sender_id])
