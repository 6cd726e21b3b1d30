"""Who may send where (CONTRACT 6), as values: the target of a send and the refusals. No
queries: ``chat.selectors`` and ``chat.store`` ask the database and apply these."""

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from chat.models import ChatType
from imserver.api.errors import AppError, ErrorCode, bad_request, invalid_parameter_message

MAX_TEXT_LENGTH = 5000  # characters of a text message once trimmed (sent or edited)


def pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def refuse_myself(user: User, target_id: int) -> None:
    if target_id == user.pk:
        raise bad_request(_("you cannot chat with yourself"))


def private_send_refusal(*, friends: bool, blocked_me: bool) -> AppError | None:
    """Why a private message (or typing frame) to an existing peer is refused, if it is:
    friendship (unless turned off) and no block by the peer; either refusal is 40003."""
    if settings.IM_REQUIRE_FRIENDSHIP and not friends:
        return AppError(ErrorCode.FORBIDDEN, _("You can only message your friends"))
    if blocked_me:
        return AppError(ErrorCode.FORBIDDEN, _("The user has blocked you"))
    return None


def user_not_found() -> AppError:
    return AppError(ErrorCode.NOT_FOUND, _("User not found"))


def muted_refusal(remaining_seconds: int) -> AppError:
    return AppError(
        ErrorCode.FORBIDDEN,
        gettext("You are muted in this group for another %(seconds)d seconds")
        % {"seconds": remaining_seconds},
    )


def mention_all_refusal() -> AppError:
    return AppError(ErrorCode.FORBIDDEN, _("Only the owner and admins may mention everyone"))


def mentions_refusal() -> AppError:
    return AppError(
        ErrorCode.BAD_REQUEST,
        invalid_parameter_message(
            _("every mentioned user must be a member of the group"), "mentions"
        ),
    )


@dataclass(frozen=True)
class SendTarget:
    """Where a message goes, once every permission rule of CONTRACT 6 has passed: a private
    pair (lower user id first) and the peer, or a group."""

    pair: tuple[int, int] | None = None
    peer_id: int | None = None
    group_id: int | None = None


def send_target(*, sender: User, chat_type: int, target_id: int) -> SendTarget:
    """Where a message goes (no query). Whether ``sender`` may send there is decided by
    ``chat.store`` in the transaction that stores the message, under locks that the writes
    changing it (block, unfriend, kick, mute, dismiss) also take."""
    if chat_type == ChatType.PRIVATE:
        refuse_myself(sender, target_id)
        return SendTarget(pair=pair(sender.pk, target_id), peer_id=target_id)
    return SendTarget(group_id=target_id)
