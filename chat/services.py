"""Chat writes: send, read, recall, delete, conversation delete and pin (CONTRACT 6).

Sequence numbers come from ``Conversation.last_seq`` under a row lock, so each conversation's
``seq`` runs 1, 2, 3 ... without gaps or duplicates whatever the number of concurrent senders.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from chat import file_access, selectors, store
from chat.group_commit import BatchFailed, GroupCommit
from chat.models import ChatType, Conversation, ConversationMember, Message, MessageDeletion
from chat.permissions import SendTarget, pair, send_target
from chat.presenters import message_push_data
from files.selectors import FILE_NOT_FOUND, file_get_for_message, unexpired_file_or_none
from files.services import file_remove
from groups.models import MANAGER_ROLES, GroupMember
from groups.selectors import member_user_ids
from imserver.api.errors import AppError, ErrorCode, bad_request, invalid_parameter_message
from imserver.publish import publish_on_commit


def message_send(
    *,
    sender: User,
    chat_type: int,
    target_id: int,
    type: int,
    content: str,
    client_msg_id: str | None = None,
    reply_to: int | None = None,
    mentions: list[int] | None = None,
    mention_all: bool = False,
) -> Message:
    """Store and push one message (CONTRACT 6, 10 and 12).

    ``reply_to`` quotes a message of the same conversation that the sender sees in history;
    ``mentions`` (members of the group) and ``mention_all`` (owner and admins) are for group
    messages only, and are checked with the other permissions where the message is stored.

    ``client_msg_id`` names one message of its sender: sending it again with the same target,
    type and content returns that message and stores nothing, also when the sender may no
    longer send there (the retry of a message that went through, whose answer was lost); with
    anything else it is refused with 40009 and stores nothing.

    Five statements for a text message, all in one transaction that concurrent sends share
    (``chat.store``): the permission check runs there, under the locks that order it with
    blocks, kicks, mutes and dismissals.
    """
    try:
        file = None
        if type != Message.Type.TEXT:
            file = file_get_for_message(user=sender, file_id=content)
        elif not content:
            raise bad_request(_("content must not be empty"))
        target = send_target(sender=sender, chat_type=chat_type, target_id=target_id)
        if chat_type == ChatType.PRIVATE and (mentions or mention_all):
            raise AppError(
                ErrorCode.BAD_REQUEST,
                invalid_parameter_message(
                    _("private messages cannot mention anyone"),
                    "mentions" if mentions else "mention_all",
                ),
            )
        quoted = None
        if reply_to is not None:
            quoted = selectors.message_visible_in_history(user=sender, message_id=reply_to)
            if not _is_in_target(quoted, target):
                raise AppError(
                    ErrorCode.BAD_REQUEST,
                    invalid_parameter_message(
                        _("the quoted message belongs to another conversation"), "reply_to"
                    ),
                )
        message = Message(
            sender=sender,
            to_user_id=target.peer_id,
            group_id=target.group_id,
            type=type,
            content=str(file.pk) if file is not None else content,
            file=file,
            status=Message.Status.NORMAL,
            client_msg_id=client_msg_id,
            created_at=timezone.now(),
            reply_to=quoted,
            mentions=mentions or [],
            mention_all=mention_all,
        )
        send = store.Send(message, target)
        _store(send)
    except (AppError, store.AlreadySent):
        if not client_msg_id:
            raise
        existing = selectors.message_by_client_id(sender_id=sender.pk, client_msg_id=client_msg_id)
        if existing is None:
            raise
        if not _is_same_message(existing, chat_type, target_id, type, content):
            raise AppError(
                ErrorCode.CONFLICT,
                _("client_msg_id is already used by another of your messages"),
            ) from None
        return existing
    publish_on_commit(send.recipients, "message", message_push_data(message))
    return message


def _is_in_target(message: Message, target: SendTarget) -> bool:
    if target.group_id is not None:
        return message.group_id == target.group_id
    return message.group_id is None and pair(message.sender_id, message.to_user_id) == target.pair


def _is_same_message(
    message: Message, chat_type: int, target_id: int, type: int, content: str
) -> bool:
    """Whether a send asks for ``message`` again: same target, type and content (a file's id in
    any spelling ``uuid.UUID`` reads)."""
    if chat_type != message.chat_type or type != message.type:
        return False
    if target_id != (message.group_id if chat_type == ChatType.GROUP else message.to_user_id):
        return False
    if type != Message.Type.TEXT:
        try:
            content = str(uuid.UUID(content))
        except ValueError:
            return False
    return content == message.content


def _store(send: store.Send) -> None:
    """Store the send in a batch with concurrent ones (``chat.group_commit``), or on its own
    inside a caller's transaction, or when the batch it was part of failed. Raises the send's
    refusal."""
    if settings.IM_GROUP_COMMIT and not transaction.get_connection().in_atomic_block:
        try:
            send_batches.submit(send)
        except BatchFailed:
            _store_batch([send])
    else:
        _store_batch([send])
    if send.refusal is not None:  # stored nothing; the batch's other sends are stored
        raise send.refusal


def _store_batch(sends: list[store.Send]) -> None:
    with transaction.atomic():
        store.store_sends(sends, now=max(send.message.created_at for send in sends))


send_batches: GroupCommit[store.Send] = GroupCommit(_store_batch)


def _participant_ids(conversation: Conversation, *, chat_type: int, target_id: int) -> list[int]:
    if chat_type == ChatType.GROUP:
        return member_user_ids(target_id)
    return [conversation.user_low_id, conversation.user_high_id]


@transaction.atomic
def conversation_read(*, user: User, chat_type: int, target_id: int) -> int:
    """Mark everything read; the other side of a private chat gets a read receipt."""
    conversation = selectors.conversation_for_reader(
        user=user, chat_type=chat_type, target_id=target_id
    )
    if conversation is None:
        return 0
    read_seq = conversation.last_seq
    entry, _created = ConversationMember.objects.get_or_create(user=user, conversation=conversation)
    ConversationMember.objects.filter(pk=entry.pk).update(
        read_seq=Greatest(F("read_seq"), read_seq), updated_at=timezone.now()
    )
    receipt = {
        "user_id": user.pk,
        "target_id": target_id,
        "chat_type": chat_type,
        "read_seq": read_seq,
    }
    recipients = [user.pk] if chat_type == ChatType.GROUP else [user.pk, target_id]
    publish_on_commit(recipients, "read", receipt)
    return read_seq


@transaction.atomic
def message_recall(*, user: User, message_id: int) -> Message:
    """Recall: the sender within the window, or a group owner/admin at any time; idempotent."""
    message = selectors.message_for_participant(user=user, message_id=message_id, lock=True)
    if not _may_recall(user, message):
        raise AppError(ErrorCode.FORBIDDEN, _("You can no longer recall this message"))
    return _recall(message, operator_id=user.pk)


@transaction.atomic
def message_recall_by_staff(*, message_id: int, operator: User) -> Message:
    """Moderation from the admin: any message, any time."""
    message = (
        Message.objects.select_for_update(of=("self",))
        .select_related("conversation", "sender", "file", "reply_to")
        .get(pk=message_id)
    )
    return _recall(message, operator_id=operator.pk)


def _recall(message: Message, *, operator_id: int) -> Message:
    if message.is_recalled:
        return message
    message.status = Message.Status.RECALLED
    message.recalled_at = timezone.now()
    message.save(update_fields=["status", "recalled_at"])
    target_id = message.group_id or message.to_user_id
    payload = {
        "message_id": message.pk,
        "seq": message.seq,
        "chat_type": message.chat_type,
        "sender_id": message.sender_id,
        "receiver_id": target_id,
        "group_id": message.group_id,
        "operator_id": operator_id,
    }
    recipients = _participant_ids(
        message.conversation, chat_type=message.chat_type, target_id=target_id
    )
    publish_on_commit(recipients, "recall", payload)
    return message


def _may_recall(user: User, message: Message) -> bool:
    if message.sender_id == user.pk:
        window = timedelta(seconds=settings.IM_RECALL_WINDOW_S)
        if timezone.now() - message.created_at <= window:
            return True
    if message.group_id is not None:
        return GroupMember.objects.filter(
            group_id=message.group_id,
            user=user,
            role__in=MANAGER_ROLES,
        ).exists()
    return False


def message_delete_for_me(*, user: User, message_id: int) -> None:
    message = selectors.message_for_participant(user=user, message_id=message_id)
    try:
        with transaction.atomic():
            MessageDeletion.objects.get_or_create(user=user, message=message)
    except IntegrityError:
        pass  # a concurrent delete of the same message by the same user


@transaction.atomic
def conversation_delete(
    *,
    user: User,
    conversation_id: int | None = None,
    chat_type: int | None = None,
    target_id: int | None = None,
) -> None:
    """Hide the conversation from my list and clear my history up to now."""
    entry = selectors.conversation_entry_for_user(
        user=user, conversation_id=conversation_id, chat_type=chat_type, target_id=target_id
    )
    last_seq = Conversation.objects.get(pk=entry.conversation_id).last_seq
    ConversationMember.objects.filter(pk=entry.pk).update(
        clear_seq=last_seq,
        read_seq=Greatest(F("read_seq"), last_seq),
        hidden_until_seq=last_seq,
        is_pinned=False,
        updated_at=timezone.now(),
    )


@transaction.atomic
def conversation_pin(
    *, user: User, chat_type: int, target_id: int, is_pinned: bool
) -> ConversationMember:
    """Pin or unpin; creates my conversation entry when missing. A pinned entry is listed."""
    conversation = selectors.conversation_for_reader(
        user=user, chat_type=chat_type, target_id=target_id
    ) or store.conversation_get_or_create(
        send_target(sender=user, chat_type=chat_type, target_id=target_id)
    )
    entry, _created = ConversationMember.objects.get_or_create(
        user=user,
        conversation=conversation,
        defaults={"read_seq": conversation.last_seq, "clear_seq": 0},
    )
    entry.is_pinned = is_pinned
    if is_pinned:
        entry.hidden_until_seq = None
    entry.save(update_fields=["is_pinned", "hidden_until_seq", "updated_at"])
    return entry


def conversation_members_joined(*, group_id: int, user_ids: list[int], **_signal: object) -> None:
    """Receives ``groups.signals.members_joined`` inside the transaction that adds the members.

    A new member's history starts after the group's current ``seq`` and nothing is unread.
    """
    if not user_ids:
        return
    conversation = store.conversation_get_or_create(SendTarget(group_id=group_id))
    last_seq = conversation.last_seq
    now = timezone.now()
    ConversationMember.objects.filter(conversation=conversation, user_id__in=user_ids).update(
        read_seq=last_seq,
        clear_seq=last_seq,
        hidden_until_seq=None,
        is_pinned=False,
        updated_at=now,
    )
    ConversationMember.objects.bulk_create(
        [
            ConversationMember(
                user_id=user_id,
                conversation=conversation,
                read_seq=last_seq,
                clear_seq=last_seq,
            )
            for user_id in user_ids
        ],
        ignore_conflicts=True,
    )


@transaction.atomic
def file_delete(*, user: User, file_id: uuid.UUID | str) -> None:
    """The uploader deletes; someone who may see the file gets 40003, anyone else 40004."""
    file = unexpired_file_or_none(file_id)
    if file is None:
        raise AppError(ErrorCode.NOT_FOUND, FILE_NOT_FOUND)
    if file.user_id != user.pk:
        if file_access.file_is_shared_with(user=user, file=file):
            raise AppError(ErrorCode.FORBIDDEN, _("Only the uploader may delete this file"))
        raise AppError(ErrorCode.NOT_FOUND, FILE_NOT_FOUND)
    file_remove(file=file)
