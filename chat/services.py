"""Chat writes: send, read, recall, delete, conversation delete and pin (CONTRACT 6).

Sequence numbers come from ``Conversation.last_seq`` under a row lock, so each conversation's
``seq`` runs 1, 2, 3 ... without gaps or duplicates whatever the number of concurrent senders.
"""

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from chat import file_access, selectors, store
from chat.group_commit import BatchFailed, GroupCommit
from chat.models import (
    ChatType,
    Conversation,
    ConversationMember,
    Message,
    MessageDeletion,
    MessageEdit,
    Reaction,
)
from chat.ordering import message_push_order
from chat.permissions import MAX_TEXT_LENGTH, SendTarget, pair, send_target
from chat.presenters import (
    edit_push_data,
    message_push_data,
    message_ref_data,
    reaction_push_data,
)
from files.models import File
from files.selectors import FILE_NOT_FOUND, file_get_for_message, unexpired_file_or_none
from files.services import file_remove
from groups.models import MANAGER_ROLES, GroupMember
from groups.selectors import member_user_ids
from imserver.api.errors import AppError, ErrorCode, bad_request, invalid_parameter_message
from imserver.publish import publish_on_commit


@dataclass(frozen=True)
class SendRequest:
    """One message to send: ``message_send``'s arguments but the sender."""

    chat_type: int
    target_id: int
    type: int
    content: str
    client_msg_id: str | None = None
    reply_to: int | None = None
    mentions: list[int] | None = None
    mention_all: bool = False
    forward_of: Message | None = None


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
    forward_of: Message | None = None,
) -> Message:
    """Store and push one message (CONTRACT 6, 10 and 12).

    ``reply_to`` quotes a message of the same conversation that the sender sees in history;
    ``mentions`` (members of the group) and ``mention_all`` (owner and admins) are for group
    messages only, and are checked with the other permissions where the message is stored.

    ``client_msg_id`` names one message of its sender: sending it again with the same target,
    type and content returns that message and stores nothing, also when the sender may no
    longer send there (the retry of a message that went through, whose answer was lost); with
    anything else it is refused with 40009 and stores nothing.

    ``forward_of`` (``message_forward``, which has checked that the sender sees it and that it
    is not recalled) makes the message a forward of it: its ``type`` and ``content`` are the
    caller's copy of the source's, a file message shares the source's file while it has not
    expired (the forwarder need not be its uploader; 40000 naming ``message_id`` otherwise),
    and ``forwarded`` is set. It is stored, pushed and deduplicated as any send.

    Five statements for a text message, all in one transaction that concurrent sends share
    (``chat.store``): the permission check runs there, under the locks that order it with
    blocks, kicks, mutes and dismissals.
    """
    request = SendRequest(
        chat_type=chat_type,
        target_id=target_id,
        type=type,
        content=content,
        client_msg_id=client_msg_id,
        reply_to=reply_to,
        mentions=mentions,
        mention_all=mention_all,
        forward_of=forward_of,
    )
    outcome = message_send_many(sender=sender, requests=[request])[0]
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def message_send_many(*, sender: User, requests: list[SendRequest]) -> list[Message | Exception]:
    """Several sends of one sender (a socket's pipelined ``message`` frames), stored in this
    order in one group-commit batch where they can: for each request, the message
    ``message_send`` would return for it alone, or the exception it would raise. Each is pushed
    as it would be alone, in this order."""
    prepared: list[store.Send | Exception] = []
    for request in requests:
        try:
            prepared.append(_prepared_send(sender, request))
        except Exception as refused:  # this request's outcome; the others go on
            prepared.append(refused)
    sends = [item for item in prepared if isinstance(item, store.Send)]
    store_errors = iter(_store_all(sends))  # one for each send, in the same order
    outcomes: list[Message | Exception] = []
    for request, item in zip(requests, prepared, strict=True):
        if isinstance(item, store.Send):
            error = next(store_errors) or item.refusal
            if error is None:
                publish_on_commit(item.recipients, "message", message_push_data(item.message))
                outcomes.append(item.message)
                continue
        else:
            error = item
        outcomes.append(_sent_before_or(error, sender=sender, request=request))
    return outcomes


def _prepared_send(sender: User, request: SendRequest) -> store.Send:
    """The checks that need no lock, and the message to store; raises the request's refusal."""
    chat_type, target_id, type = request.chat_type, request.target_id, request.type
    content, forward_of = request.content, request.forward_of
    mentions, mention_all = request.mentions, request.mention_all
    file = None
    if forward_of is not None:
        file = _forwarded_file(forward_of)
    elif type != Message.Type.TEXT:
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
    if request.reply_to is not None:
        quoted = selectors.message_visible_in_history(user=sender, message_id=request.reply_to)
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
        client_msg_id=request.client_msg_id,
        created_at=timezone.now(),
        reply_to=quoted,
        mentions=mentions or [],
        mention_all=mention_all,
        forwarded=forward_of is not None,
        search_text=file.file_name if file is not None else content,
    )
    return store.Send(message, target)


def _sent_before_or(error: Exception, *, sender: User, request: SendRequest) -> Message | Exception:
    """A refused send (``error``) that repeats a stored one (``_sent_before``) returns that
    message; one whose ``client_msg_id`` names another message is 40009; else ``error``."""
    if not isinstance(error, (AppError, store.AlreadySent)):
        return error
    try:
        existing = _sent_before(
            sender=sender,
            client_msg_id=request.client_msg_id,
            chat_type=request.chat_type,
            target_id=request.target_id,
            type=request.type,
            content=request.content,
            forwarded=request.forward_of is not None,
        )
    except AppError as conflict:
        return conflict
    return error if existing is None else existing


def _is_in_target(message: Message, target: SendTarget) -> bool:
    if target.group_id is not None:
        return message.group_id == target.group_id
    return (
        message.group_id is None
        and message.to_user_id is not None  # a private message has its recipient
        and pair(message.sender_id, message.to_user_id) == target.pair
    )


def _sent_before(
    *,
    sender: User,
    client_msg_id: str | None,
    chat_type: int,
    target_id: int,
    type: int | None,
    content: str | None,
    forwarded: bool,
) -> Message | None:
    """The message a request with the same ``client_msg_id`` stored, when this request repeats
    it (``_is_same_message``); None when the id is unused (or not given); 40009 when it names
    another message."""
    if not client_msg_id:
        return None
    existing = selectors.message_by_client_id(sender_id=sender.pk, client_msg_id=client_msg_id)
    if existing is None:
        return None
    if not _is_same_message(existing, chat_type, target_id, type, content, forwarded=forwarded):
        raise AppError(
            ErrorCode.CONFLICT,
            _("client_msg_id is already used by another of your messages"),
        ) from None
    return existing


def _is_same_message(
    message: Message,
    chat_type: int,
    target_id: int,
    type: int | None,
    content: str | None,
    *,
    forwarded: bool = False,
) -> bool:
    """Whether a request asks for ``message`` again: a send with the same target, type and
    content (a file's id in any spelling ``uuid.UUID`` reads; text as first sent, also when
    edited since), or a forward to the same target. A forward is not matched on its content:
    the message keeps no link to its source, which may have been edited, recalled or hidden
    from the forwarder since the first attempt. Sends and forwards never match each other."""
    if chat_type != message.chat_type or forwarded != message.forwarded:
        return False
    if target_id != (message.group_id if chat_type == ChatType.GROUP else message.to_user_id):
        return False
    if forwarded:
        return True
    if type != message.type or content is None:
        return False
    if type != Message.Type.TEXT:
        try:
            content = str(uuid.UUID(content))
        except ValueError:
            return False
    return content in (message.content, _first_text(message))


def _first_text(message: Message) -> str:
    """The text ``message`` was sent with, before any edit."""
    if message.edited_at is None:
        return message.content
    first = message.edits.order_by("pk").values_list("previous_content", flat=True).first()
    return message.content if first is None else first


def _store_all(sends: list[store.Send]) -> list[Exception | None]:
    """Store the sends in one batch with concurrent ones (``chat.group_commit``), or each on its
    own inside a caller's transaction, or when the batch they were part of failed; for each
    send, the error that kept it from being stored (a refusal is left in ``send.refusal``, and
    the batch's other sends are stored)."""
    if not sends:
        return []
    if settings.IM_GROUP_COMMIT and not transaction.get_connection().in_atomic_block:
        try:
            send_batches.submit_many(sends)
            return [None] * len(sends)
        except BatchFailed:
            pass  # stored again one by one
        except Exception as error:  # a send alone in its batch: its own error
            return [error] * len(sends)
    errors: list[Exception | None] = []
    for send in sends:
        try:
            _store_batch([send])
            errors.append(None)
        except Exception as error:
            errors.append(error)
    return errors


def _store_batch(sends: list[store.Send]) -> None:
    with transaction.atomic():
        store.store_sends(sends, now=max(send.message.created_at for send in sends))


send_batches: GroupCommit[store.Send] = GroupCommit(_store_batch)


def _participant_ids(conversation: Conversation, *, chat_type: int, target_id: int) -> list[int]:
    if chat_type == ChatType.GROUP:
        return member_user_ids(target_id)
    low, high = conversation.user_low_id, conversation.user_high_id
    assert low is not None and high is not None  # a private conversation (its check constraint)
    return [low, high]


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


def message_recall(*, user: User, message_id: int) -> Message:
    """Recall: the sender within the window, or a group owner/admin at any time; idempotent.
    Its push is ordered with the message's edits (``chat.ordering``)."""
    with message_push_order(message_id):
        return _recall_by_participant(user, message_id)


@transaction.atomic
def _recall_by_participant(user: User, message_id: int) -> Message:
    message = selectors.message_for_participant(user=user, message_id=message_id, lock=True)
    if not _may_recall(user, message):
        raise AppError(ErrorCode.FORBIDDEN, _("You can no longer recall this message"))
    return _recall(message, operator_id=user.pk)


def message_recall_by_staff(*, message_id: int, operator: User) -> Message:
    """Moderation from the admin: any message, any time; ordered with edits as a recall is."""
    with message_push_order(message_id):
        return _recall_by_staff(message_id, operator)


@transaction.atomic
def _recall_by_staff(message_id: int, operator: User) -> Message:
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
    message.search_text = ""  # a recalled message never matches a search
    message.save(update_fields=["status", "recalled_at", "search_text"])
    target_id = message.group_id or message.to_user_id
    assert target_id is not None  # a message has a group or a recipient
    payload = {**message_ref_data(message), "operator_id": operator_id}
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
    entry = _my_entry(user=user, chat_type=chat_type, target_id=target_id)
    entry.is_pinned = is_pinned
    if is_pinned:
        entry.hidden_until_seq = None
    entry.save(update_fields=["is_pinned", "hidden_until_seq", "updated_at"])
    return entry


def _my_entry(*, user: User, chat_type: int, target_id: int) -> ConversationMember:
    """My entry in the conversation, created when missing (with the conversation) as a send or
    a join would create it: nothing unread, in a group no history from before, and out of my
    list until a message arrives. The same targets and refusals as a read."""
    conversation = selectors.conversation_for_reader(
        user=user, chat_type=chat_type, target_id=target_id
    ) or store.conversation_get_or_create(
        send_target(sender=user, chat_type=chat_type, target_id=target_id)
    )
    last_seq = conversation.last_seq
    entry, _created = ConversationMember.objects.get_or_create(
        user=user,
        conversation=conversation,
        defaults={
            "read_seq": last_seq,
            "clear_seq": last_seq if chat_type == ChatType.GROUP else 0,
            "hidden_until_seq": last_seq,
        },
    )
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


# --- Reactions (CONTRACT 10) ------------------------------------------------------------------
MAX_EMOJI_PER_USER = 10  # different emoji of one user on one message at a time
REACTION_USER_IDS = 20  # users each entry of a message's ``reactions`` names, in reaction order


@transaction.atomic
def message_react(*, user: User, message_id: int, emoji: str) -> list[dict[str, Any]]:
    """Give ``emoji`` to a message the user sees in history; the message's ``reactions`` after.

    The message's row lock orders every reaction change of one message, so its ``Reaction``
    rows and its summary change together and concurrent reactions neither lose a count nor
    pass the per-user cap. Giving an emoji again changes nothing and pushes nothing.
    """
    message = _message_to_react_on(user, message_id)
    mine = list(Reaction.objects.filter(message=message, user=user).values_list("emoji", flat=True))
    if emoji in mine:
        return _summary(message)
    if len(mine) >= MAX_EMOJI_PER_USER:
        raise AppError(
            ErrorCode.BAD_REQUEST,
            invalid_parameter_message(
                _("at most %(count)d different emoji per message") % {"count": MAX_EMOJI_PER_USER},
                "emoji",
            ),
        )
    Reaction.objects.create(message=message, user=user, emoji=emoji)
    _reactions_changed(message, user_id=user.pk, emoji=emoji, action="add")
    return _summary(message)


@transaction.atomic
def message_unreact(*, user: User, message_id: int, emoji: str) -> list[dict[str, Any]]:
    """Take back ``emoji`` from a message the user sees in history; the message's
    ``reactions`` after. Taking back one not given changes nothing and pushes nothing."""
    message = _message_to_react_on(user, message_id)
    removed, _rows = Reaction.objects.filter(message=message, user=user, emoji=emoji).delete()
    if removed:
        _reactions_changed(message, user_id=user.pk, emoji=emoji, action="remove")
    return _summary(message)


def _message_to_react_on(user: User, message_id: int) -> Message:
    """The message, locked: seen in the user's history (else 40004) and not recalled (40003)."""
    message = selectors.message_visible_in_history(user=user, message_id=message_id, lock=True)
    if message.is_recalled:
        raise AppError(ErrorCode.FORBIDDEN, _("This message has been recalled"))
    return message


def _reactions_changed(message: Message, *, user_id: int, emoji: str, action: str) -> None:
    """Rewrite ``emoji``'s entry of the summary from its rows (under the message's lock, so the
    summary always counts the rows), save it and push ``reaction`` to who sees the message."""
    rows = Reaction.objects.filter(message=message, emoji=emoji)
    count = rows.count()
    user_ids = list(rows.order_by("pk").values_list("user_id", flat=True)[:REACTION_USER_IDS])
    message.reactions = _summary_with(message.reactions, emoji, count, user_ids)
    message.save(update_fields=["reactions"])
    data = reaction_push_data(message, user_id=user_id, emoji=emoji, action=action, count=count)
    publish_on_commit(selectors.message_audience(message), "reaction", data)


def _summary(message: Message) -> list[dict[str, Any]]:
    """The message's reaction summary: its JSON column ``reactions``."""
    summary: list[dict[str, Any]] = message.reactions
    return summary


def _summary_with(
    summary: list[dict[str, Any]], emoji: str, count: int, user_ids: list[int]
) -> list[dict[str, Any]]:
    """``summary`` with ``emoji``'s entry set: in place while it has users, dropped at 0,
    appended when new (an emoji keeps the place of its first use until its count falls to 0)."""
    entry = {"emoji": emoji, "count": count, "user_ids": user_ids}
    others = [item for item in summary if item["emoji"] != emoji]
    if len(others) == len(summary):
        return [*summary, entry] if count else summary
    if not count:
        return others
    return [entry if item["emoji"] == emoji else item for item in summary]


# --- Conversation mute (CONTRACT 10) ----------------------------------------------------------
@transaction.atomic
def conversation_mute(
    *, user: User, chat_type: int, target_id: int, is_muted: bool
) -> ConversationMember:
    """Mute or unmute (do not disturb) my conversation; the same targets and refusals as pin.

    Muting changes no delivery, only which badge count holds the conversation's unread. A
    missing entry is created as ``_my_entry`` creates it: muting alone lists nothing.
    """
    entry = _my_entry(user=user, chat_type=chat_type, target_id=target_id)
    entry.is_muted = is_muted
    entry.save(update_fields=["is_muted", "updated_at"])
    return entry


# --- Edit and forward (CONTRACT 10) -----------------------------------------------------------
def message_edit(*, user: User, message_id: int, content: str) -> Message:
    """Replace the text of one's own message; the message as it is after.

    Checked in this order: the user sees the message in history (else 40004), sent it (40003),
    it is not recalled (40003), it is a text message (40000), it was sent at most
    ``IM_EDIT_WINDOW_S`` ago (40003; 0 turns editing off), and ``content`` is a text a send
    would take (40000 naming ``content``). The same text again changes nothing and pushes
    nothing. Otherwise the message gets the text and ``edited_at``, a ``MessageEdit`` row keeps
    the text before (for staff), and whoever sees the message gets an ``edit`` push.

    Under the message's row lock, an edit and a recall of the same message are ordered: the
    later one sees the earlier, so a message never ends edited after its recall. Their pushes
    are ordered the same way (``chat.ordering``): no ``edit`` push reaches a socket after the
    message's ``recall`` push.
    """
    with message_push_order(message_id):
        return _edit(user, message_id, content.strip())


@transaction.atomic
def _edit(user: User, message_id: int, content: str) -> Message:
    message = selectors.message_visible_in_history(user=user, message_id=message_id, lock=True)
    if message.sender_id != user.pk:
        raise AppError(ErrorCode.FORBIDDEN, _("Only the sender may edit a message"))
    if message.is_recalled:
        raise AppError(ErrorCode.FORBIDDEN, _("This message has been recalled"))
    if message.type != Message.Type.TEXT:
        raise AppError(
            ErrorCode.BAD_REQUEST,
            invalid_parameter_message(_("only text messages can be edited"), "message_id"),
        )
    window = settings.IM_EDIT_WINDOW_S
    if window <= 0 or timezone.now() - message.created_at > timedelta(seconds=window):
        raise AppError(ErrorCode.FORBIDDEN, _("You can no longer edit this message"))
    _check_text(content)
    if content == message.content:
        return message
    edited_at = timezone.now()
    MessageEdit.objects.create(
        message=message,
        editor=user,
        previous_content=message.content,
        content=content,
        edited_at=edited_at,
    )
    message.content, message.edited_at = content, edited_at
    message.search_text = content  # search matches the current text only
    message.save(update_fields=["content", "edited_at", "search_text"])
    # Routed as the message's recall push is routed (to every participant), so that the two
    # stay in the order ``chat.ordering`` hands them over.
    target_id = message.group_id or message.to_user_id
    assert target_id is not None  # a message has a group or a recipient
    participants = _participant_ids(
        message.conversation, chat_type=message.chat_type, target_id=target_id
    )
    publish_on_commit(
        selectors.message_audience(message),
        "edit",
        edit_push_data(message),
        route_size=len(participants),
    )
    return message


def _check_text(content: str) -> None:
    """A text message's content, trimmed: 1 to ``MAX_TEXT_LENGTH`` characters (as a send's)."""
    reason: str | Promise
    if not content:
        reason = _("content must not be empty")
    elif len(content) > MAX_TEXT_LENGTH:
        reason = _("at most %(count)d characters") % {"count": MAX_TEXT_LENGTH}
    else:
        return
    raise AppError(ErrorCode.BAD_REQUEST, invalid_parameter_message(reason, "content"))


def message_forward(
    *,
    sender: User,
    message_id: int,
    chat_type: int,
    target_id: int,
    client_msg_id: str | None = None,
) -> Message:
    """Send a copy of a message the sender sees in history to a target; the new message.

    The source must be visible (else 40004) and not recalled (40003); then the send's rules
    and codes hold (``message_send`` with ``forward_of``): the same ``type``, the current
    (edited) text or the same unexpired file, ``forwarded`` true, no quote, no mentions, no
    reactions. ``client_msg_id`` shares the space of sends: repeating a forward to the same
    target returns the first one, also once the source is recalled or hidden from the sender.
    """
    try:
        source = selectors.message_visible_in_history(user=sender, message_id=message_id)
        if source.is_recalled:
            raise AppError(ErrorCode.FORBIDDEN, _("A recalled message cannot be forwarded"))
    except AppError:
        existing = _sent_before(
            sender=sender,
            client_msg_id=client_msg_id,
            chat_type=chat_type,
            target_id=target_id,
            type=None,
            content=None,
            forwarded=True,
        )
        if existing is None:
            raise
        return existing
    return message_send(
        sender=sender,
        chat_type=chat_type,
        target_id=target_id,
        type=source.type,
        content=source.content,
        client_msg_id=client_msg_id,
        forward_of=source,
    )


def _forwarded_file(source: Message) -> File | None:
    """The file a forward of ``source`` carries: none for text, else the source's file while
    it has not expired (40000 naming ``message_id`` once it has, or was removed)."""
    if source.type == Message.Type.TEXT:
        return None
    file = unexpired_file_or_none(source.file_id) if source.file_id is not None else None
    if file is None:
        raise AppError(
            ErrorCode.BAD_REQUEST,
            invalid_parameter_message(_("the file of this message has expired"), "message_id"),
        )
    return file
