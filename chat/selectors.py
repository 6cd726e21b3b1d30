"""Chat reads: who may act on which conversation, history pages, the conversation list."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypedDict

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Greatest
from django.db.models.sql.compiler import SQLCompiler
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from chat.models import (
    ChatType,
    Conversation,
    ConversationMember,
    Message,
    MessageDeletion,
    MessageMention,
)
from chat.permissions import (
    muted_refusal,
    pair,
    private_send_refusal,
    refuse_myself,
    user_not_found,
)
from chat.presenters import conversation_entry_data, message_data
from groups.models import MANAGER_ROLES, Group, GroupMember
from groups.selectors import member_user_ids, membership_require
from imserver.api.errors import AppError, ErrorCode, invalid_parameter_message
from social.selectors import peer_relation, remarks_for

if TYPE_CHECKING:  # a development requirement
    from django_stubs_ext import WithAnnotations

MESSAGE_NOT_FOUND = _("Message not found")


def message_by_client_id(*, sender_id: int, client_msg_id: str) -> Message | None:
    return (
        Message.objects.select_related("sender", "file", "reply_to")
        .filter(sender_id=sender_id, client_msg_id=client_msg_id)
        .first()
    )


def _private_peer(user: User, target_id: int) -> User:
    refuse_myself(user, target_id)
    peer = User.objects.filter(pk=target_id).first()
    if peer is None:
        raise user_not_found()
    return peer


def _private_peer_i_may_message(user: User, target_id: int) -> int:
    """``private_send_refusal`` asked in one query; an unknown peer is 40004. Returns the
    peer's id."""
    refuse_myself(user, target_id)
    relation = peer_relation(user.pk, target_id)
    if relation is None:
        raise user_not_found()
    friends, blocked_me = relation
    refusal = private_send_refusal(friends=friends, blocked_me=blocked_me)
    if refusal is not None:
        raise refusal
    return target_id


def _private_conversation(user_id: int, peer_id: int) -> Conversation | None:
    low, high = pair(user_id, peer_id)
    return Conversation.objects.filter(
        type=ChatType.PRIVATE, user_low_id=low, user_high_id=high
    ).first()


def _group_conversation(group_id: int) -> Conversation | None:
    return Conversation.objects.filter(group_id=group_id).first()


def _group_member_i_may_message(user: User, group_id: int) -> None:
    """A current member of a normal group (40003 / 40004) who is not muted (40003 with the
    seconds left): the rule for a group's typing frames, as ``chat.store`` applies it to its
    messages."""
    member = membership_require(group_id=group_id, user_id=user.pk)
    remaining = member.mute_remaining_seconds()
    if remaining:
        raise muted_refusal(remaining)


def conversation_for_reader(*, user: User, chat_type: int, target_id: int) -> Conversation | None:
    """The conversation the user takes part in (None when no message exists yet).

    Private: the peer must exist (40004). Group: current member of a normal group (40003 /
    40004).
    """
    if chat_type == ChatType.PRIVATE:
        peer = _private_peer(user, target_id)
        return _private_conversation(user.pk, peer.pk)
    membership_require(group_id=target_id, user_id=user.pk)
    return _group_conversation(target_id)


def _entry(user: User, conversation: Conversation) -> ConversationMember | None:
    return ConversationMember.objects.filter(user=user, conversation=conversation).first()


def _clear_seq(user: User, conversation: Conversation) -> int:
    """History starts after this seq. A group member without an entry sees nothing old."""
    entry = _entry(user, conversation)
    if entry is not None:
        return entry.clear_seq
    return conversation.last_seq if conversation.type == ChatType.GROUP else 0


def message_for_participant(*, user: User, message_id: int, lock: bool = False) -> Message:
    """A message the user can see in their history, else 40004."""
    queryset = Message.objects.select_related("conversation", "sender", "file", "reply_to")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    message = queryset.filter(pk=message_id).first()
    if message is None:
        raise AppError(ErrorCode.NOT_FOUND, MESSAGE_NOT_FOUND)
    if message.group_id is not None:
        visible = GroupMember.objects.filter(
            group_id=message.group_id, user=user, group__status=Group.Status.NORMAL
        ).exists()
    else:
        visible = user.pk in (message.sender_id, message.to_user_id)
    if not visible or message.seq <= _clear_seq(user, message.conversation):
        raise AppError(ErrorCode.NOT_FOUND, MESSAGE_NOT_FOUND)
    return message


def message_visible_in_history(*, user: User, message_id: int, lock: bool = False) -> Message:
    """A message the user sees in their history (``message_for_participant``, and not deleted
    by them), else 40004: what replies, reactions, edits, forwards and readers act on."""
    message = message_for_participant(user=user, message_id=message_id, lock=lock)
    if MessageDeletion.objects.filter(user=user, message=message).exists():
        raise AppError(ErrorCode.NOT_FOUND, MESSAGE_NOT_FOUND)
    return message


def conversation_entry_for_user(
    *,
    user: User,
    conversation_id: int | None = None,
    chat_type: int | None = None,
    target_id: int | None = None,
) -> ConversationMember:
    if conversation_id is not None:
        entry = ConversationMember.objects.filter(pk=conversation_id, user=user).first()
    else:
        assert chat_type is not None and target_id is not None  # ConversationDeleteSerializer: both
        conversation = conversation_for_reader(user=user, chat_type=chat_type, target_id=target_id)
        entry = _entry(user, conversation) if conversation is not None else None
    if entry is None:
        raise AppError(ErrorCode.NOT_FOUND, _("Conversation not found"))
    return entry


def message_history(
    *,
    user: User,
    chat_type: int,
    target_id: int,
    limit: int,
    before_seq: int | None = None,
    after_seq: int | None = None,
) -> tuple[list[Message], bool]:
    """One page of history in ascending ``seq`` and whether more exist in the page's direction."""
    conversation = conversation_for_reader(user=user, chat_type=chat_type, target_id=target_id)
    if conversation is None:
        return [], False
    mine_deleted = MessageDeletion.objects.filter(user=user, message=OuterRef("pk"))
    queryset = (
        Message.objects.filter(conversation=conversation, seq__gt=_clear_seq(user, conversation))
        .exclude(Exists(mine_deleted))
        .select_related("sender", "file", "reply_to")
    )
    if after_seq is not None:
        page = list(queryset.filter(seq__gt=after_seq).order_by("seq")[: limit + 1])
        return page[:limit], len(page) > limit
    if before_seq is not None:
        queryset = queryset.filter(seq__lt=before_seq)
    page = list(queryset.order_by("-seq")[: limit + 1])
    return page[:limit][::-1], len(page) > limit


def visible_conversation_entries(user: User) -> QuerySet[ConversationMember]:
    """My entries that the 8.6 list shows: not hidden (or a newer message arrived), private, or
    of a normal group I am a member of. The badge sums over the same entries."""
    is_member = GroupMember.objects.filter(group=OuterRef("conversation__group"), user=user)
    return (
        ConversationMember.objects.filter(user=user)
        .filter(
            Q(hidden_until_seq__isnull=True) | Q(conversation__last_seq__gt=F("hidden_until_seq"))
        )
        .filter(
            Q(conversation__type=ChatType.PRIVATE)
            | Q(Exists(is_member), conversation__group__status=Group.Status.NORMAL)
        )
    )


def conversation_list_for_user(*, user: User) -> list[dict[str, Any]]:
    """My visible conversations: pinned first, then by latest message. Constant queries: the
    entries (with their mention counts) and the remarks of the private peers."""
    entries = list(
        with_mention_count(visible_conversation_entries(user), user)
        .select_related(
            "conversation__last_message",
            "conversation__group",
            "conversation__user_low",
            "conversation__user_high",
        )
        .order_by("-is_pinned", F("conversation__last_message_id").desc(nulls_last=True), "-id")
    )
    peers = {
        entry.pk: _peer_of(entry.conversation, user.pk)
        for entry in entries
        if entry.conversation.type == ChatType.PRIVATE
    }
    remarks = remarks_for(user.pk, [peer.pk for peer in peers.values()])
    items = []
    for entry in entries:
        if entry.pk in peers:
            peer = peers[entry.pk]
            target = (peer.pk, remarks.get(peer.pk) or peer.nickname, peer.avatar)
        else:
            group = entry.conversation.group
            assert group is not None  # a group conversation (its check constraint)
            target = (group.pk, group.name, group.avatar)
        items.append(
            conversation_entry_data(
                entry,
                target_id=target[0],
                target_name=target[1],
                target_avatar=target[2],
                mention_count=entry.mention_count,
            )
        )
    return items


def _peer_of(conversation: Conversation, user_id: int) -> User:
    peer = conversation.user_high if conversation.user_low_id == user_id else conversation.user_low
    assert peer is not None  # a private conversation has both users (its check constraint)
    return peer


def typing_recipients(*, user: User, chat_type: int, target_id: int) -> list[int]:
    """The other side of a conversation I may send to (everyone else in a group); refused as a
    message there would be (a muted member's typing too)."""
    if chat_type == ChatType.PRIVATE:
        return [_private_peer_i_may_message(user, target_id)]
    _group_member_i_may_message(user, target_id)
    return [user_id for user_id in member_user_ids(target_id) if user_id != user.pk]


# --- Reactions (CONTRACT 10) ------------------------------------------------------------------
def message_audience(message: Message) -> list[int]:
    """The users who see ``message`` in their history now (the rule of
    ``message_visible_in_history``): those who get a push about a change to it.

    Group: current members of the (normal) group whose entry's history starts before the
    message (joined before it, not cleared past it; a member without an entry sees nothing
    old). Private: both users, unless they cleared the conversation past it. Either way not
    those who deleted it for themselves. One query, read in the caller's transaction: a member
    who joins, leaves or clears at the same moment may or may not be counted.
    """
    if message.group_id is not None:
        deleted = MessageDeletion.objects.filter(message_id=message.pk, user_id=OuterRef("user_id"))
        is_member = GroupMember.objects.filter(
            group_id=message.group_id,
            user_id=OuterRef("user_id"),
            group__status=Group.Status.NORMAL,
        )
        entries = ConversationMember.objects.filter(
            Exists(is_member), conversation_id=message.conversation_id, clear_seq__lt=message.seq
        )
        return list(entries.exclude(Exists(deleted)).values_list("user_id", flat=True))
    assert message.to_user_id is not None  # a private message has its recipient
    participants = [message.sender_id, message.to_user_id]
    cleared = ConversationMember.objects.filter(
        conversation_id=message.conversation_id, user_id=OuterRef("pk"), clear_seq__gte=message.seq
    )
    deleted = MessageDeletion.objects.filter(message_id=message.pk, user_id=OuterRef("pk"))
    return list(
        User.objects.filter(pk__in=participants)
        .exclude(Exists(cleared))
        .exclude(Exists(deleted))
        .values_list("pk", flat=True)
    )


# --- Read receipts, mentions, badge (CONTRACT 10) ---------------------------------------------
def _unread_mentions(user: User) -> Subquery:
    """How many messages of the outer entry's conversation after its ``read_seq`` mention
    ``user`` or everyone, sent by someone else, not recalled, not deleted by ``user``; a message
    naming both counts once.

    Index ranges per entry (``(user, conversation, seq)`` for mentions of ``user``, the partial
    ``mention_all`` index for everyone): it reads the unread mentions, never the history."""
    deleted = MessageDeletion.objects.filter(user=user, message_id=OuterRef("message_id"))
    rows = (
        MessageMention.objects.filter(
            Q(user=user) | Q(user__isnull=True),
            conversation_id=OuterRef("conversation_id"),
            seq__gt=OuterRef("read_seq"),
        )
        .exclude(sender=user)
        .filter(message__status=Message.Status.NORMAL)
        .exclude(Exists(deleted))
    )
    counted = rows.order_by().values("conversation_id")
    return Subquery(counted.annotate(n=Count("message_id", distinct=True)).values("n"))


class MentionCount(TypedDict):
    """What ``with_mention_count`` adds to each entry."""

    mention_count: int


def with_mention_count(
    entries: QuerySet[ConversationMember], user: User
) -> "QuerySet[WithAnnotations[ConversationMember, MentionCount]]":
    """My ``entries`` with ``mention_count`` (CONTRACT 10): the messages after my read position
    that mention me or everyone, sent by someone else, not recalled and not deleted by me.
    Computed in the entries' own query, so a list of them stays one query."""
    return entries.annotate(mention_count=Coalesce(_unread_mentions(user), 0))


def unread_badge(*, user: User) -> dict[str, int]:
    """The badge: unread messages of my unmuted and of my muted conversations, and the messages
    that mention me in any of them, summed over the conversations my list shows. One query
    whatever the number of conversations; unread counts derive from sequence numbers as in the
    list."""
    unread = Greatest(F("conversation__last_seq") - F("read_seq"), Value(0))
    return visible_conversation_entries(user).aggregate(
        unread_count=Coalesce(Sum(unread, filter=Q(is_muted=False)), 0),
        muted_unread_count=Coalesce(Sum(unread, filter=Q(is_muted=True)), 0),
        mention_count=Coalesce(Sum(_unread_mentions(user)), 0),
    )


def message_readers(*, user: User, message_id: int) -> dict[str, Any]:
    """Who of the group has read a group message (``GET /chat/message/readers``).

    Asked by someone who sees the message (else 40004), about a group message (else 40000),
    by its sender or the group's owner or an admin (else 40003). Counted: the current members
    whose history holds the message (their entry's ``clear_seq`` below its ``seq``: joined
    before it, not cleared past it; a member without an entry sees nothing old), also those
    who deleted it for themselves, never the sender. Read: the entry's ``read_seq`` at or past
    its ``seq``. Ids ascending; a constant number of queries.
    """
    message = message_visible_in_history(user=user, message_id=message_id)
    if message.group_id is None:
        raise AppError(
            ErrorCode.BAD_REQUEST,
            invalid_parameter_message(
                _("read receipts of private messages come with read pushes"), "message_id"
            ),
        )
    is_manager = GroupMember.objects.filter(
        group_id=message.group_id, user=user, role__in=MANAGER_ROLES
    )
    if message.sender_id != user.pk and not is_manager.exists():
        raise AppError(
            ErrorCode.FORBIDDEN,
            _("Only the sender, the group owner and admins may see who read a message"),
        )
    members = GroupMember.objects.filter(group_id=message.group_id).values("user_id")
    positions = (
        ConversationMember.objects.filter(
            conversation_id=message.conversation_id,
            clear_seq__lt=message.seq,
            user_id__in=members,
        )
        .exclude(user_id=message.sender_id)
        .order_by("user_id")
        .values_list("user_id", "read_seq")
    )
    read_user_ids: list[int] = []
    unread_user_ids: list[int] = []
    for member_id, read_seq in positions:
        (read_user_ids if read_seq >= message.seq else unread_user_ids).append(member_id)
    return {
        "read_user_ids": read_user_ids,
        "unread_user_ids": unread_user_ids,
        "read_count": len(read_user_ids),
        "unread_count": len(unread_user_ids),
    }


# --- Message search (CONTRACT 11) -------------------------------------------------------------
SEARCH_KEYWORD_MAX_LENGTH = 100
SEARCH_PAGE_MAX = 100
# The FTS5 trigram tokenizer (SQLite) finds substrings of three or more characters only.
_FTS_MIN_TERM_LENGTH = 3
_FTS_MATCH = "SELECT rowid FROM chat_message_search WHERE chat_message_search MATCH %s"
# PostgreSQL: the most messages the bigram index may find for a keyword (before the substring
# test and visibility) for the page to be looked for among them; more, and the page is read
# from my conversations instead (``_narrowed_by_index``). Checking this many candidates is
# cheap next to reading all the messages I see, which a rare term in my conversations costs.
SEARCH_INDEX_CANDIDATES_MAX = 2000


class _TextPredicate(Func):
    """A condition on a text and one more value, written by :meth:`predicate` from their
    compiled SQL for the connection's database."""

    output_field = BooleanField()

    def predicate(self, vendor: str, text_sql: str, value_sql: str) -> str:
        raise NotImplementedError

    def as_sql(
        self,
        compiler: SQLCompiler,
        connection: BaseDatabaseWrapper,
        *args: Any,
        **extra_context: Any,
    ) -> tuple[str, tuple[Any, ...]]:
        text, value = self.get_source_expressions()
        text_sql, text_params = compiler.compile(text)
        value_sql, value_params = compiler.compile(value)
        sql = self.predicate(connection.vendor, text_sql, value_sql)
        return sql, (*text_params, *value_params)


class _BigramsContain(_TextPredicate):
    """``im_bigrams(lower(text)) @> im_bigrams(lower(term))`` (PostgreSQL): the text holds
    every two-character substring of the term, a necessary condition for holding the term.
    Spelled exactly as the expression of the GIN index ``chat_message_search_bigrams``
    (migration 0004), so the planner can answer it from the index."""

    def predicate(self, vendor: str, text_sql: str, value_sql: str) -> str:
        return f"im_bigrams(lower({text_sql})) @> im_bigrams(lower({value_sql}))"


class _LikeIgnoringCase(_TextPredicate):
    """``text ILIKE pattern`` on PostgreSQL (case folded by the database's locale: Unicode on a
    UTF-8 database); ``lower(text) LIKE lower(pattern)`` elsewhere (SQLite: ASCII). ``\\``
    escapes ``%``, ``_`` and itself in the pattern (``_like_pattern``)."""

    def predicate(self, vendor: str, text_sql: str, value_sql: str) -> str:
        if vendor == "postgresql":
            return f"{text_sql} ILIKE {value_sql}"
        return f"lower({text_sql}) LIKE lower({value_sql}) ESCAPE '\\'"


def search_terms(keyword: str) -> list[str]:
    """The keyword's terms: split on whitespace, repeats dropped, in the order given (the
    keyword's length is checked with the rest of the query, ``MessageSearchQuerySerializer``)."""
    return list(dict.fromkeys(keyword.split()))


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fts_phrase(term: str) -> str:
    """The term as one FTS5 phrase: quoted, inner quotes doubled, so no character of it is
    query syntax."""
    return '"' + term.replace('"', '""') + '"'


def _term_matches(term: str) -> Q:
    """Messages whose ``search_text`` contains ``term``, case-insensitively.

    The substring test (``ILIKE`` / ``LIKE``) decides. On SQLite the FTS5 trigram table
    narrows the rows it runs on for terms of three or more characters; on PostgreSQL the
    bigram index narrows them for the keyword as a whole, when it finds few enough
    (``_narrowed_by_index``). Otherwise a term is bounded only by the rest of the query (my
    conversations)."""
    matches = Q(_LikeIgnoringCase(F("search_text"), Value(_like_pattern(term))))
    if connection.vendor == "sqlite" and len(term) >= _FTS_MIN_TERM_LENGTH:
        matches &= Q(pk__in=RawSQL(_FTS_MATCH, (_fts_phrase(term),)))
    return matches


def _searchable_messages(user: User) -> QuerySet[Message]:
    """The messages the user sees in history, as ``message_history`` and
    ``message_visible_in_history`` decide, written as one query over all conversations:

    - my entry of the message's conversation has ``clear_seq`` below its ``seq`` (joined
      before it, not cleared past it). Every private conversation with a message has an entry
      for both users (the send creates them, nothing deletes them), so for private messages
      this is history's "cleared past it" rule; a group member without an entry sees nothing
      old there, as in history;
    - the conversation is private, or a normal group I am a current member of;
    - not recalled (a recalled message never matches) and not deleted by me.

    PostgreSQL checks each message it reads against my entries; it cannot start from them
    through this test alone (the ``clear_seq`` comparison is not an equality), hence the
    plain ``conversation IN (my entries)`` of ``_narrowed_by_index``."""
    is_member = GroupMember.objects.filter(group=OuterRef("conversation__group"), user=user)
    readable = ConversationMember.objects.filter(
        Q(conversation__type=ChatType.PRIVATE)
        | Q(Exists(is_member), conversation__group__status=Group.Status.NORMAL),
        user=user,
        conversation_id=OuterRef("conversation_id"),
        clear_seq__lt=OuterRef("seq"),
    )
    deleted = MessageDeletion.objects.filter(user=user, message=OuterRef("pk"))
    return Message.objects.filter(Exists(readable), status=Message.Status.NORMAL).exclude(
        Exists(deleted)
    )


def _narrowed_by_index(
    matches: QuerySet[Message],
    *,
    user: User,
    terms: list[str],
    conversation: Conversation | None,
) -> QuerySet[Message]:
    """``matches`` (PostgreSQL) with the narrowing that reads the fewest rows: the messages
    the bigram index finds for the keyword, when it finds at most
    ``SEARCH_INDEX_CANDIDATES_MAX``; else my conversations. Both select exactly
    ``matches`` (the index finds a superset of the substring matches, and I only see
    messages of conversations I have an entry in), so the choice changes the cost, never the
    page.

    One query decides, on the index alone (and the conversation, when the search names one):
    is there a candidate past the cap (``SELECT 1 FROM chat_message WHERE
    im_bigrams(lower(search_text)) @> im_bigrams(lower(term)) AND ... LIMIT 1 OFFSET cap``).
    The planner cannot tell: it takes a term's bigrams as independent, so for a common word
    (``hello``: he, el, ll, lo) it expects a handful of messages where a large share of all
    messages hold them, and reads every one through the index to find my newest few.

    - At most the cap: ``id IN (the candidates, LIMIT cap + 1)``. The page is found among
      them (substring test, visibility, filters, newest first): bounded by the cap whatever
      the rest of the query.
    - More (or no term of two or more characters: no bigram to look up): no bigram
      condition, and ``conversation_id IN (my entries)``, an equality PostgreSQL can start
      from, reading each of my conversations by ``(conversation, seq)`` or, when the
      substring test is common, my newest messages first. The cost is bounded by the
      messages I see, never by how many messages in all hold the term.

    The decision is a separate statement so that the page statement holds only the chosen
    narrowing: both in one statement (``UNION ALL`` of two gated branches) plans both and
    runs the index check once per branch."""
    bigrams = [
        Q(_BigramsContain(F("search_text"), Value(term))) for term in terms if len(term) >= 2
    ]
    candidates = Message.objects.filter(*bigrams).order_by()
    if conversation is not None:
        candidates = candidates.filter(conversation=conversation)
    cap = SEARCH_INDEX_CANDIDATES_MAX
    if bigrams and not candidates[cap : cap + 1].exists():
        return matches.filter(pk__in=candidates.values("pk")[: cap + 1])
    mine = ConversationMember.objects.filter(user=user).values("conversation_id")
    return matches.filter(conversation_id__in=mine)


def _from_unix(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def message_search(
    *,
    user: User,
    keyword: str,
    chat_type: int | None = None,
    target_id: int | None = None,
    sender_id: int | None = None,
    type: int | None = None,
    after: int | None = None,
    before: int | None = None,
    before_id: int | None = None,
    limit: int = 20,
) -> tuple[list[Message], bool]:
    """One page of the messages I see in history that contain every term of ``keyword``
    (CONTRACT 11), newest first (by id), and whether older matches exist.

    Visibility, terms and filters are all conditions of one query, limited last, so a page is
    never short while older matches exist. ``chat_type`` and ``target_id`` (both or neither)
    name one conversation, refused as history refuses it (``conversation_for_reader``: 40003,
    40004). ``after`` (inclusive) and ``before`` (exclusive) are unix seconds; ``before_id``
    pages on to older matches. The query's checks (keyword length, both or neither of
    ``chat_type`` and ``target_id``, ``limit`` 1 to ``SEARCH_PAGE_MAX``) are the serializer's,
    ``MessageSearchQuerySerializer``. Sender, file and
    quoted message are loaded with the page (and the private peer and group, for
    ``message_search_results``): one query whatever the page size.
    """
    terms = search_terms(keyword)
    matches = _searchable_messages(user)
    conversation = None
    if chat_type is not None:
        assert target_id is not None  # both or neither: MessageSearchQuerySerializer
        conversation = conversation_for_reader(user=user, chat_type=chat_type, target_id=target_id)
        if conversation is None:
            return [], False
        matches = matches.filter(conversation=conversation)
    for term in terms:
        matches = matches.filter(_term_matches(term))
    if sender_id is not None:
        matches = matches.filter(sender_id=sender_id)
    if type is not None:
        matches = matches.filter(type=type)
    if after is not None:
        matches = matches.filter(created_at__gte=_from_unix(after))
    if before is not None:
        matches = matches.filter(created_at__lt=_from_unix(before))
    if before_id is not None:
        matches = matches.filter(pk__lt=before_id)
    with _planned_for_its_values():
        if connection.vendor == "postgresql":
            matches = _narrowed_by_index(matches, user=user, terms=terms, conversation=conversation)
        # The ids are chosen first and the rows joined for them only: the joins never run on
        # more than one page of rows.
        page_ids = matches.order_by("-pk").values("pk")[: limit + 1]
        query = (
            Message.objects.filter(pk__in=page_ids)
            .select_related("sender", "to_user", "group", "file", "reply_to")
            .order_by("-pk")
        )
        page = list(query)
    return page[:limit], len(page) > limit


@contextmanager
def _planned_for_its_values() -> Iterator[None]:
    """Run the statements inside unprepared (psycopg 3 on PostgreSQL), so each is planned for
    its own terms. A prepared statement soon runs a generic plan, which cannot see the terms;
    but how many messages hold a term decides the plan: how to read the bigram index, and
    whether to read my conversations one by one or my newest messages first."""
    if connection.vendor != "postgresql":
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    threshold = getattr(raw, "prepare_threshold", None)
    if threshold is None:
        yield
        return
    raw.prepare_threshold = None
    try:
        yield
    finally:
        raw.prepare_threshold = threshold


def _search_conversation_data(
    message: Message, user_id: int, remarks: dict[int, str]
) -> dict[str, Any]:
    """The message's conversation seen from me, named as in my 8.6 list."""
    group = message.group  # loaded with the page; None, with no query, for a private message
    if group is not None:
        return {
            "chat_type": ChatType.GROUP,
            "target_id": group.pk,
            "target_name": group.name,
            "target_avatar": group.avatar,
        }
    peer = message.to_user if message.sender_id == user_id else message.sender
    assert peer is not None  # a private message has its recipient
    return {
        "chat_type": ChatType.PRIVATE,
        "target_id": peer.pk,
        "target_name": remarks.get(peer.pk) or peer.nickname,
        "target_avatar": peer.avatar,
    }


def _private_peer_id(message: Message, user_id: int) -> int:
    """The other user of a private message, seen by ``user_id``."""
    if message.sender_id != user_id:
        return message.sender_id
    assert message.to_user_id is not None  # a private message has its recipient
    return message.to_user_id


def message_search_results(*, user: User, **params: Any) -> dict[str, Any]:
    """``GET /chat/search``'s ``data``: a ``message_search`` page, each message object with
    its ``conversation``. One query more than the page: my remarks for the private peers."""
    messages, has_more = message_search(user=user, **params)
    peer_ids = {
        _private_peer_id(message, user.pk) for message in messages if message.group_id is None
    }
    remarks = remarks_for(user.pk, peer_ids)
    return {
        "messages": [
            {
                **message_data(message),
                "conversation": _search_conversation_data(message, user.pk, remarks),
            }
            for message in messages
        ],
        "hasMore": has_more,
    }
