"""Chat reads: who may act on which conversation, history pages, the conversation list."""

from typing import Any

from django.db.models import Exists, F, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from chat.models import ChatType, Conversation, ConversationMember, Message, MessageDeletion
from chat.permissions import (
    muted_refusal,
    pair,
    private_send_refusal,
    refuse_myself,
    user_not_found,
)
from chat.presenters import conversation_entry_data
from groups.models import Group, GroupMember
from groups.selectors import member_user_ids, membership_require
from imserver.api.errors import AppError, ErrorCode
from social.selectors import peer_relation, remarks_for

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


def conversation_list_for_user(*, user: User) -> list[dict[str, Any]]:
    """My visible conversations: pinned first, then by latest message. Constant queries."""
    is_member = GroupMember.objects.filter(group=OuterRef("conversation__group"), user=user)
    entries = list(
        ConversationMember.objects.filter(user=user)
        .filter(
            Q(hidden_until_seq__isnull=True) | Q(conversation__last_seq__gt=F("hidden_until_seq"))
        )
        .filter(
            Q(conversation__type=ChatType.PRIVATE)
            | Q(Exists(is_member), conversation__group__status=Group.Status.NORMAL)
        )
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
            target = (group.pk, group.name, group.avatar)
        items.append(
            conversation_entry_data(
                entry, target_id=target[0], target_name=target[1], target_avatar=target[2]
            )
        )
    return items


def _peer_of(conversation: Conversation, user_id: int) -> User:
    if conversation.user_low_id == user_id:
        return conversation.user_high
    return conversation.user_low


def typing_recipients(*, user: User, chat_type: int, target_id: int) -> list[int]:
    """The other side of a conversation I may send to (everyone else in a group); refused as a
    message there would be (a muted member's typing too)."""
    if chat_type == ChatType.PRIVATE:
        return [_private_peer_i_may_message(user, target_id)]
    _group_member_i_may_message(user, target_id)
    return [user_id for user_id in member_user_ids(target_id) if user_id != user.pk]
