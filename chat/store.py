"""The statements that store sends, written out because they run for every message.

``store_sends`` stores one or more sends (a group commit batches the sends of concurrent
requests, ``chat.group_commit``) in the caller's transaction, four statements whatever their
number, the same SQL on PostgreSQL and SQLite (3.35+):

1. ``SELECT ... ORDER BY id FOR UPDATE`` locks the conversations (in id order, so two batches
   never wait for each other in a cycle) and reads their ``last_seq``; each send takes the next
   ``seq`` of its conversation, in batch order, so ``seq`` has neither gaps nor duplicates;
2. one ``INSERT ... ON CONFLICT DO NOTHING`` of the messages: a repeated ``client_msg_id``
   inserts nothing, and ``AlreadySent`` makes the caller roll the batch back;
3. one ``UPDATE`` moves ``last_seq`` and ``last_message`` of every conversation;
4. one ``INSERT ... ON CONFLICT DO UPDATE`` of read positions: a sender has read up to their
   message, and a private peer gets a list entry when missing.

Group messages also read the group's members under the lock (the push's recipients). Through
the ORM one send took fourteen statements (profiles in docs/benchmarks).
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection

from chat.models import ChatType, Conversation, ConversationMember, Message
from chat.selectors import SendTarget
from groups.selectors import member_user_ids

_CONVERSATION = Conversation._meta.db_table
_MESSAGE = Message._meta.db_table
_MEMBER = ConversationMember._meta.db_table
_FILE = Message._meta.get_field("file")  # a UUID key: stored as text on SQLite

_LOCK = (
    f"SELECT id, user_low_id, user_high_id, group_id, last_seq FROM {_CONVERSATION} "
    "WHERE {where} ORDER BY id"
)
_PRIVATE_PAIRS = (
    f"(type = {int(ChatType.PRIVATE)} AND (user_low_id, user_high_id) IN (VALUES {{pairs}}))"
)
_GROUP_IDS = "group_id IN ({ids})"
_MESSAGE_ROW = "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
_INSERT_MESSAGES = (
    f"INSERT INTO {_MESSAGE} (conversation_id, seq, sender_id, to_user_id, group_id, type, "
    "content, file_id, status, client_msg_id, created_at) "
    "VALUES {rows} ON CONFLICT DO NOTHING RETURNING id, conversation_id, seq"
)
_ADVANCE = (
    f"UPDATE {_CONVERSATION} SET last_seq = CASE id {{seqs}} END, "
    "last_message_id = CASE id {messages} END, updated_at = %s WHERE id IN ({ids})"
)
_POSITION_ROW = "(%s, %s, %s, %s, %s, %s, %s)"
_UPSERT_POSITIONS = (
    f"INSERT INTO {_MEMBER} "
    "(user_id, conversation_id, read_seq, clear_seq, is_pinned, created_at, updated_at) "
    "VALUES {rows} ON CONFLICT (user_id, conversation_id) DO UPDATE SET "
    f"read_seq = CASE WHEN {_MEMBER}.read_seq < excluded.read_seq "
    f"THEN excluded.read_seq ELSE {_MEMBER}.read_seq END, updated_at = excluded.updated_at "
    "WHERE excluded.read_seq > 0"  # a sender's row; a peer's (read_seq 0) is only created
)

ConversationKey = tuple[int, int] | int  # a private pair (low, high) or a group id


@dataclass
class Send:
    """A message whose permission checks passed, and where it goes. ``store_sends`` fills in
    the message's conversation, ``seq`` and id, and who gets the push."""

    message: Message
    target: SendTarget
    recipients: list[int] = field(default_factory=list)

    @property
    def conversation_key(self) -> ConversationKey:
        return self.target.pair if self.target.pair is not None else self.target.group_id


class AlreadySent(Exception):
    """A ``client_msg_id`` of the batch is taken: roll back, and store its sends one by one."""


def _db_time(moment: datetime) -> object:
    return connection.ops.adapt_datetimefield_value(moment)


def _placeholders(count: int, row: str = "%s") -> str:
    return ", ".join([row] * count)


def store_sends(sends: list[Send], *, now: datetime) -> None:
    """Store ``sends`` in the current transaction (see the module's docstring)."""
    conversations = _lock_conversations(sends)
    targets = {send.conversation_key: send.target for send in sends}
    missing = targets.keys() - conversations.keys()
    if missing:  # first messages: create those conversations, then lock as usual
        for key in sorted(missing, key=lambda key: (isinstance(key, int), key)):
            targets[key].conversation()
        conversations = _lock_conversations(sends)
    last_seq = {conversation_id: seq for conversation_id, seq in conversations.values()}
    for send in sends:
        conversation_id = conversations[send.conversation_key][0]
        last_seq[conversation_id] += 1
        send.message.conversation_id, send.message.seq = conversation_id, last_seq[conversation_id]
    _insert_messages([send.message for send in sends])
    _advance_conversations([send.message for send in sends], now=now)
    _upsert_positions(sends, now=now)
    members = {}
    for send in sends:
        if send.target.pair is not None:
            send.recipients = list(send.target.pair)
        else:
            if send.target.group_id not in members:
                members[send.target.group_id] = member_user_ids(send.target.group_id)
            send.recipients = members[send.target.group_id]


def _lock_conversations(sends: list[Send]) -> dict[ConversationKey, tuple[int, int]]:
    """Lock the sends' existing conversations: ``{key: (conversation id, last_seq)}``."""
    pairs = sorted({send.target.pair for send in sends if send.target.pair is not None})
    group_ids = sorted({send.target.group_id for send in sends if send.target.pair is None})
    where, params = [], []
    if pairs:
        where.append(_PRIVATE_PAIRS.format(pairs=_placeholders(len(pairs), "(%s, %s)")))
        params += [user_id for pair in pairs for user_id in pair]
    if group_ids:
        where.append(_GROUP_IDS.format(ids=_placeholders(len(group_ids))))
        params += group_ids
    sql = _LOCK.format(where=" OR ".join(where))
    if connection.features.has_select_for_update:  # SQLite's writer already holds the file
        sql += " FOR UPDATE"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return {
        (low, high) if group_id is None else group_id: (conversation_id, seq)
        for conversation_id, low, high, group_id, seq in rows
    }


def _insert_messages(messages: list[Message]) -> None:
    params = []
    for message in messages:
        params += [
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
        ]
    sql = _INSERT_MESSAGES.format(rows=_placeholders(len(messages), _MESSAGE_ROW))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        inserted = {(conversation_id, seq): pk for pk, conversation_id, seq in cursor.fetchall()}
    if len(inserted) < len(messages):
        raise AlreadySent
    for message in messages:
        message.pk = inserted[(message.conversation_id, message.seq)]
        message._state.adding, message._state.db = False, connection.alias  # as if saved


def _advance_conversations(messages: list[Message], *, now: datetime) -> None:
    """Each conversation's ``last_seq`` and ``last_message`` become those of its last send."""
    last = {message.conversation_id: message for message in messages}  # batch order = seq order
    seqs, message_ids = [], []
    for conversation_id, message in last.items():
        seqs += [conversation_id, message.seq]
        message_ids += [conversation_id, message.pk]
    sql = _ADVANCE.format(
        seqs=" ".join(["WHEN %s THEN %s"] * len(last)),
        messages=" ".join(["WHEN %s THEN %s"] * len(last)),
        ids=_placeholders(len(last)),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, seqs + message_ids + [_db_time(now), *last])


def _upsert_positions(sends: list[Send], *, now: datetime) -> None:
    """A sender's ``read_seq`` moves up to their last message (a missing entry is created with
    the ``clear_seq`` of their first: 0 in a private chat, so the whole history shows; in a
    group, its history starts at that message); a private peer's entry is created if missing.
    One row per (user, conversation): a statement may not update a row twice."""
    positions: dict[tuple[int, int], tuple[int, int]] = {}
    for send in sends:
        message = send.message
        key = (message.sender_id, message.conversation_id)
        clear_seq = 0 if send.target.pair is not None else message.seq - 1
        earlier = positions.get(key)
        if earlier is None or earlier[0] == 0:
            positions[key] = (message.seq, clear_seq)
        else:
            positions[key] = (max(earlier[0], message.seq), min(earlier[1], clear_seq))
        if send.target.peer_id is not None:
            positions.setdefault((send.target.peer_id, message.conversation_id), (0, 0))
    moment = _db_time(now)
    params = []
    for (user_id, conversation_id), (read_seq, clear_seq) in positions.items():
        params += [user_id, conversation_id, read_seq, clear_seq, False, moment, moment]
    sql = _UPSERT_POSITIONS.format(rows=_placeholders(len(positions), _POSITION_ROW))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
