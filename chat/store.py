"""The statements that store sends, written out because they run for every message.

``store_sends`` stores one or more sends (a group commit batches the sends of concurrent
requests, ``chat.group_commit``) in the caller's transaction, five statements for a batch of
private or of group sends (one more of the first two for a batch of both), the same SQL on
PostgreSQL and SQLite (3.35+):

1. ``SELECT ... FOR UPDATE`` locks the conversations and reads their ``last_seq``; each send
   takes the next ``seq`` of its conversation, in batch order, so ``seq`` has neither gaps nor
   duplicates. The same statement takes ``FOR KEY SHARE`` on the row that every change of who
   may send there locks ``FOR UPDATE`` first: the lower user of a private pair (friend
   requests, unfriend, block and unblock lock both users, ``social.services``) and the group
   (kick, leave, mute, dismiss, ``groups.services``). Private conversations are locked in
   (lower user, higher user) order and groups in id order, so two batches never wait for each
   other in a cycle, and the user rows are taken in id order as ``social.services`` takes them;
2. the permission check, in a statement of its own, so that it reads what was committed
   before the locks were granted: friendship and blocks of the pairs, or the groups' status
   and members (the members are also the push's recipients). A change that commits before
   this transaction waited for it and is seen; one that starts later waits until this
   transaction has committed. A refused send gets ``refusal`` and is left out of the rest;
3. one ``INSERT ... ON CONFLICT (sender_id, client_msg_id) DO NOTHING`` of the messages: a
   repeated ``client_msg_id`` inserts nothing and ``AlreadySent`` makes the caller roll the
   batch back; any other conflict (a ``seq`` taken twice) is an error, not a retry;
4. one ``UPDATE`` moves ``last_seq`` and ``last_message`` of every conversation;
5. one ``INSERT ... ON CONFLICT DO UPDATE`` of read positions: a sender has read up to their
   message, and a private peer gets a list entry when missing.

A batch with mentions adds one ``INSERT`` of their rows (one per mentioned user, whatever the
group size), and one with replies one ``SELECT ... FOR UPDATE`` of the quoted messages. The
mentions and ``mention_all`` are checked with the permissions, against the members read there.

A conversation's first message costs more: the users or group are locked on their own (and
checked to exist), and the conversation is created, then locked as above.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection

from accounts.models import User
from chat.models import ChatType, Conversation, ConversationMember, Message, MessageMention
from chat.permissions import (
    SendTarget,
    mention_all_refusal,
    mentions_refusal,
    muted_refusal,
    private_send_refusal,
    user_not_found,
)
from groups.models import MANAGER_ROLES, Group, GroupMember
from groups.selectors import GROUP_NOT_FOUND, NOT_A_MEMBER
from imserver.api.errors import AppError, ErrorCode
from social.models import Friendship

_CONVERSATION = Conversation._meta.db_table
_MESSAGE = Message._meta.db_table
_MEMBER = ConversationMember._meta.db_table
_USER = User._meta.db_table
_GROUP = Group._meta.db_table
_GROUP_MEMBER = GroupMember._meta.db_table
_FRIENDSHIP = Friendship._meta.db_table
_FILE = Message._meta.get_field("file")  # a UUID key: stored as text on SQLite
_MENTIONS = Message._meta.get_field("mentions")
_REACTIONS = Message._meta.get_field("reactions")

_CONVERSATION_COLUMNS = "c.id, c.user_low_id, c.user_high_id, c.group_id, c.last_seq"
_LOCK_PRIVATE = (
    f"SELECT {_CONVERSATION_COLUMNS} FROM {_CONVERSATION} c "
    f"JOIN {_USER} lo ON lo.id = c.user_low_id "
    f"WHERE c.type = {int(ChatType.PRIVATE)} AND (c.user_low_id, c.user_high_id) IN "
    "(VALUES {pairs}) ORDER BY c.user_low_id, c.user_high_id"
)
_LOCK_PRIVATE_CLAUSE = " FOR UPDATE OF c FOR KEY SHARE OF lo"
_LOCK_GROUPS = (
    f"SELECT {_CONVERSATION_COLUMNS} FROM {_CONVERSATION} c "
    f"JOIN {_GROUP} g ON g.id = c.group_id WHERE c.group_id IN ({{ids}}) ORDER BY c.id"
)
_LOCK_GROUPS_CLAUSE = " FOR UPDATE OF c FOR KEY SHARE OF g"
# First messages: the rows that the conversation lock would have taken, and whether they exist.
_LOCK_USER_ROWS = f"SELECT id FROM {_USER} WHERE id IN ({{ids}}) ORDER BY id"
_LOCK_GROUP_ROWS = f"SELECT id FROM {_GROUP} WHERE id IN ({{ids}}) ORDER BY id"
_PAIR_RELATIONS = (
    f"SELECT user_id, friend_id, is_friend, status FROM {_FRIENDSHIP} "
    "WHERE (user_id, friend_id) IN (VALUES {pairs})"
)
_GROUP_MEMBERS = (
    f"SELECT g.id, g.status, m.user_id, m.muted_until > %s, m.role FROM {_GROUP} g "
    f"LEFT JOIN {_GROUP_MEMBER} m ON m.group_id = g.id WHERE g.id IN ({{ids}}) ORDER BY g.id, m.id"
)
_MESSAGE_ROW = "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
_INSERT_MESSAGES = (
    f"INSERT INTO {_MESSAGE} (conversation_id, seq, sender_id, to_user_id, group_id, type, "
    "content, file_id, status, client_msg_id, created_at, reply_to_id, mentions, mention_all, "
    "forwarded, reactions, search_text) "
    # The target names the partial unique index (sender, client_msg_id): only a repeated id is
    # skipped; a duplicate (conversation, seq) raises IntegrityError.
    "VALUES {rows} ON CONFLICT (sender_id, client_msg_id) WHERE client_msg_id IS NOT NULL "
    "DO NOTHING RETURNING id, conversation_id, seq"
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
# A statement's parameter as the store passes it to the database driver.
Param = int | str | datetime | None


@dataclass
class Send:
    """A message and where it goes. ``store_sends`` fills in the message's conversation,
    ``seq`` and id and who gets the push, or ``refusal`` when the sender may not send there."""

    message: Message
    target: SendTarget
    recipients: list[int] = field(default_factory=list)
    refusal: AppError | None = None

    @property
    def conversation_key(self) -> ConversationKey:
        return self.target.pair if self.target.pair is not None else _group_id(self.target)


def _group_id(target: SendTarget) -> int:
    """The group of a target that has no private pair."""
    assert target.group_id is not None  # a target is a private pair or a group
    return target.group_id


class AlreadySent(Exception):
    """A ``client_msg_id`` of the batch is taken: roll back, and store its sends one by one."""


def _db_time(moment: datetime) -> Param:
    return connection.ops.adapt_datetimefield_value(moment)


def _placeholders(count: int, row: str = "%s") -> str:
    return ", ".join([row] * count)


def _fetch(sql: str, params: Sequence[Param]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows


def conversation_get_or_create(target: SendTarget) -> Conversation:
    """The target's conversation, created when missing (a first message, a pin, a group's first
    members)."""
    if target.pair is not None:
        low, high = target.pair
        conversation, _created = Conversation.objects.get_or_create(
            type=ChatType.PRIVATE, user_low_id=low, user_high_id=high
        )
    else:
        conversation, _created = Conversation.objects.get_or_create(
            group_id=_group_id(target), defaults={"type": ChatType.GROUP}
        )
    return conversation


def store_sends(sends: list[Send], *, now: datetime) -> None:
    """Store the permitted ``sends`` in the current transaction (see the module's docstring);
    the others get their ``refusal`` and store nothing."""
    for send in sends:
        send.refusal = None
    conversations = _lock_conversations(sends)
    missing = {send.conversation_key for send in sends} - conversations.keys()
    found = _lock_first_message_rows(sends, missing) if missing else set()
    _check_permissions(sends, now=now, missing=missing, found=found)
    sends = [send for send in sends if send.refusal is None]
    if not sends:
        return
    targets = {send.conversation_key: send.target for send in sends}
    first = targets.keys() & missing
    if first:  # create those conversations, then lock as usual
        for key in sorted(first, key=lambda key: (isinstance(key, int), key)):
            conversation_get_or_create(targets[key])
        conversations = _lock_conversations(sends)
    last_seq = {conversation_id: seq for conversation_id, seq in conversations.values()}
    for send in sends:
        conversation_id = conversations[send.conversation_key][0]
        last_seq[conversation_id] += 1
        send.message.conversation_id, send.message.seq = conversation_id, last_seq[conversation_id]
    _insert_messages([send.message for send in sends])
    _advance_conversations([send.message for send in sends], now=now)
    _upsert_positions(sends, now=now)
    _insert_mentions([send.message for send in sends])
    _lock_quotes([send.message for send in sends])


def _lock_conversations(sends: list[Send]) -> dict[ConversationKey, tuple[int, int]]:
    """Lock the sends' existing conversations and the rows their permissions hang on (see the
    module's docstring): ``{key: (conversation id, last_seq)}``."""
    pairs = sorted({send.target.pair for send in sends if send.target.pair is not None})
    group_ids = sorted({_group_id(send.target) for send in sends if send.target.pair is None})
    locking = connection.features.has_select_for_update  # SQLite's writer holds the file
    rows = []
    if pairs:
        sql = _LOCK_PRIVATE.format(pairs=_placeholders(len(pairs), "(%s, %s)"))
        rows += _fetch(
            sql + (_LOCK_PRIVATE_CLAUSE if locking else ""),
            [user_id for pair in pairs for user_id in pair],
        )
    if group_ids:
        sql = _LOCK_GROUPS.format(ids=_placeholders(len(group_ids)))
        rows += _fetch(sql + (_LOCK_GROUPS_CLAUSE if locking else ""), group_ids)
    return {
        (low, high) if group_id is None else group_id: (conversation_id, seq)
        for conversation_id, low, high, group_id, seq in rows
    }


def _lock_first_message_rows(
    sends: list[Send], missing: set[ConversationKey]
) -> set[tuple[str, int]]:
    """Lock the users of the pairs and the groups that have no conversation yet (``FOR KEY
    SHARE``, as ``_lock_conversations`` would): ``{("user" | "group", id)}`` of those that
    exist. These locks come after those of the existing conversations, out of the id order
    that keeps batches and ``social.services`` from waiting in a cycle, so a batch of several
    sends does not wait for them: it fails (NOWAIT) and each send is stored on its own, where
    nothing else is held yet."""
    user_ids = sorted({user_id for key in missing if isinstance(key, tuple) for user_id in key})
    group_ids = sorted(key for key in missing if isinstance(key, int))
    clause = ""
    if connection.features.has_select_for_update:
        clause = " FOR KEY SHARE" + (" NOWAIT" if len(sends) > 1 else "")
    found: set[tuple[str, int]] = set()
    if user_ids:
        sql = _LOCK_USER_ROWS.format(ids=_placeholders(len(user_ids)))
        found |= {("user", row[0]) for row in _fetch(sql + clause, user_ids)}
    if group_ids:
        sql = _LOCK_GROUP_ROWS.format(ids=_placeholders(len(group_ids)))
        found |= {("group", row[0]) for row in _fetch(sql + clause, group_ids)}
    return found


def _check_permissions(
    sends: list[Send],
    *,
    now: datetime,
    missing: set[ConversationKey],
    found: set[tuple[str, int]],
) -> None:
    """Set ``refusal`` on each send whose sender may not send there (CONTRACT 6; the errors
    ``chat.selectors`` gives for typing frames), and the ``recipients`` of the others."""
    private = [send for send in sends if send.target.pair is not None]
    group = [send for send in sends if send.target.pair is None]
    if private:
        _check_private(private, missing=missing, found=found)
    if group:
        _check_group(group, now=now)


def _check_private(
    sends: list[Send], *, missing: set[ConversationKey], found: set[tuple[str, int]]
) -> None:
    """Friendship and blocks of every pair of the batch, both directions, in one query. A pair
    with a conversation has both users; for the others ``found`` says whether the peer exists."""
    directions = sorted(
        {(send.message.sender_id, send.target.peer_id) for send in sends}
        | {(send.target.peer_id, send.message.sender_id) for send in sends}
    )
    sql = _PAIR_RELATIONS.format(pairs=_placeholders(len(directions), "(%s, %s)"))
    rows = _fetch(sql, [user_id for direction in directions for user_id in direction])
    relations = {
        (user_id, friend_id): (is_friend, status) for user_id, friend_id, is_friend, status in rows
    }
    for send in sends:
        sender_id, peer_id = send.message.sender_id, send.target.peer_id
        if send.target.pair in missing and ("user", peer_id) not in found:
            send.refusal = user_not_found()
            continue
        is_friend, _status = relations.get((sender_id, peer_id), (False, None))
        _is_friend, peer_status = relations.get((peer_id, sender_id), (False, None))
        send.refusal = private_send_refusal(
            friends=bool(is_friend), blocked_me=peer_status == Friendship.Status.BLOCKED
        )
        assert send.target.pair is not None  # a private send
        send.recipients = list(send.target.pair)


def _check_group(sends: list[Send], *, now: datetime) -> None:
    group_ids = sorted({_group_id(send.target) for send in sends})
    sql = _GROUP_MEMBERS.format(ids=_placeholders(len(group_ids)))
    status: dict[int, int] = {}
    members: dict[int, list[int]] = {}
    muted: set[tuple[int, int]] = set()
    managers: set[tuple[int, int]] = set()
    rows = _fetch(sql, [_db_time(now), *group_ids])
    for group_id, group_status, user_id, is_muted, role in rows:
        status[group_id] = group_status
        members.setdefault(group_id, [])
        if user_id is not None:
            members[group_id].append(user_id)
            if is_muted:
                muted.add((group_id, user_id))
            if role in MANAGER_ROLES:
                managers.add((group_id, user_id))
    for send in sends:
        group_id, sender_id = _group_id(send.target), send.message.sender_id
        if status.get(group_id) != Group.Status.NORMAL:
            send.refusal = AppError(ErrorCode.NOT_FOUND, GROUP_NOT_FOUND)
        elif sender_id not in members[group_id]:
            send.refusal = AppError(ErrorCode.FORBIDDEN, NOT_A_MEMBER)
        elif (group_id, sender_id) in muted:
            member = GroupMember.objects.get(group_id=group_id, user_id=sender_id)
            send.refusal = muted_refusal(member.mute_remaining_seconds(now))
        elif send.message.mention_all and (group_id, sender_id) not in managers:
            send.refusal = mention_all_refusal()
        elif not set(send.message.mentions) <= set(members[group_id]):
            send.refusal = mentions_refusal()
        else:
            send.recipients = members[group_id]


def _insert_messages(messages: list[Message]) -> None:
    params: list[Param] = []
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
            message.reply_to_id,
            _MENTIONS.get_db_prep_save(message.mentions, connection),
            message.mention_all,
            message.forwarded,
            _REACTIONS.get_db_prep_save(message.reactions, connection),
            message.search_text,
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


def _insert_mentions(messages: list[Message]) -> None:
    """One row per mentioned user (and one without a user for ``mention_all``); none at all,
    and no statement, for a batch without mentions."""
    rows = [
        MessageMention(
            message=message,
            conversation_id=message.conversation_id,
            seq=message.seq,
            sender_id=message.sender_id,
            user_id=user_id,
        )
        for message in messages
        for user_id in [*message.mentions, *([None] if message.mention_all else [])]
    ]
    if rows:
        MessageMention.objects.bulk_create(rows)


def _lock_quotes(messages: list[Message]) -> None:
    """Lock and read the messages that replies of the batch quote: a recall or an edit of one
    waits for this transaction, or this one waits for it and quotes what it committed, so a
    reply is never pushed with a quote older than a recall or edit pushed before it."""
    quoted_ids = {message.reply_to_id for message in messages if message.reply_to_id is not None}
    if not quoted_ids:
        return
    queryset = Message.objects.filter(pk__in=quoted_ids)
    if connection.features.has_select_for_update:
        queryset = queryset.select_for_update(of=("self",))
    quoted = {message.pk: message for message in queryset}
    for message in messages:
        if message.reply_to_id is not None:
            message.reply_to = quoted[message.reply_to_id]


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
    params: list[Param] = [*seqs, *message_ids, _db_time(now), *last]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


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
    params: list[Param] = []
    for (user_id, conversation_id), (read_seq, clear_seq) in positions.items():
        params += [user_id, conversation_id, read_seq, clear_seq, False, moment, moment]
    sql = _UPSERT_POSITIONS.format(rows=_placeholders(len(positions), _POSITION_ROW))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
