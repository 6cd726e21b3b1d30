"""Files as chat shares them (CONTRACT 8 and 12): a file is readable by its uploader and by
whoever sees a message carrying it in their history."""

import uuid

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import User
from chat.models import ConversationMember, Message, MessageDeletion
from files.models import File
from files.selectors import FILE_NOT_FOUND, as_uuid, unexpired_files
from groups.models import Group, GroupMember
from imserver.api.errors import AppError, ErrorCode


def messages_visible_in_history(*, user: User) -> QuerySet[Message]:
    """Messages ``user`` sees in their history, as one filter (no query until evaluated).

    The same rule as ``chat.selectors.message_history`` and ``message_for_participant``, written
    as subqueries so it can run inside another query; recalled messages are left out as well,
    because a recalled message no longer shares what it carried (CONTRACT 12):

    - private: the user is the sender or the recipient, and the message comes after their
      ``clear_seq`` (no position row: the whole history shows, as ``_clear_seq`` answers 0);
    - group: the user is a current member of the normal group and the message comes after their
      ``clear_seq``, which joining sets to the group's last ``seq`` (no position row: nothing
      shows, as ``_clear_seq`` answers the conversation's ``last_seq``);
    - not deleted by the user for themselves (8.5), not recalled.
    """
    position = ConversationMember.objects.filter(user=user, conversation=OuterRef("conversation"))
    private = (
        Q(group__isnull=True)
        & (Q(sender=user) | Q(to_user=user))
        & ~Exists(position.filter(clear_seq__gte=OuterRef("seq")))
    )
    membership = GroupMember.objects.filter(
        group=OuterRef("group"), user=user, group__status=Group.Status.NORMAL
    )
    in_group = Exists(membership) & Exists(position.filter(clear_seq__lt=OuterRef("seq")))
    return Message.objects.filter(private | in_group, status=Message.Status.NORMAL).exclude(
        Exists(MessageDeletion.objects.filter(user=user, message=OuterRef("pk")))
    )


def _shared_with(user: User) -> Exists:
    """On a ``File`` row: whether ``user`` sees a message carrying it in their history."""
    return Exists(messages_visible_in_history(user=user).filter(file=OuterRef("pk")))


def file_is_shared_with(*, user: User, file: File) -> bool:
    """Whether ``user`` sees, in their history, a message that references ``file`` (CONTRACT 8):
    not recalled, not deleted by them, not before they joined the group or cleared the
    conversation. The uploader's own right is not part of this (see ``file_get_readable``)."""
    return messages_visible_in_history(user=user).filter(file=file).exists()


def file_get_readable(*, user: User, file_id: uuid.UUID | str) -> File:
    """An unexpired file ``user`` may download and inspect: their own upload, or one they see
    in a message of their history. Anything else is a 40004, exactly as an unknown id, so ids
    cannot be probed. One query."""
    file_uuid = as_uuid(file_id)
    file = None
    if file_uuid is not None:
        file = unexpired_files().filter(Q(user=user) | _shared_with(user), pk=file_uuid).first()
    if file is None:
        raise AppError(ErrorCode.NOT_FOUND, FILE_NOT_FOUND)
    return file
