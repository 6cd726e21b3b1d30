"""What each group event tells whom: the group notifications (CONTRACT 2 types 1-11, API.md 6.3).

``notify`` writes one row per recipient about one target (or none); ``notify_each`` writes one
row per target, addressed to that target. Both go through ``notifications.services``, which
stores the rows and pushes each after commit. Messages are rendered in the server's default
language (``LANGUAGE_CODE``), whoever triggered them, because every recipient reads the same row.
"""

from collections.abc import Iterable

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import User, display_name
from groups.models import Group
from notifications.models import GroupNotification
from notifications.services import group_notifications_create

Type = GroupNotification.Type

# kind -> (type, message); the message's parameters: user (the target), operator, group, time.
NOTICES: dict[str, tuple[int, Promise]] = {
    "application_received": (
        Type.APPLICATION_RECEIVED,
        _("'%(user)s' applied to join the group '%(group)s'"),
    ),
    "application_approved": (
        Type.APPLICATION_APPROVED,
        _("Your application to join the group '%(group)s' was approved by '%(operator)s'"),
    ),
    "application_rejected": (
        Type.APPLICATION_REJECTED,
        _("Your application to join the group '%(group)s' was rejected by '%(operator)s'"),
    ),
    "invited": (Type.INVITED, _("'%(operator)s' invited you to join the group '%(group)s'")),
    "member_left": (Type.MEMBER_LEFT, _("'%(user)s' left the group '%(group)s'")),
    "kicked": (Type.KICKED, _("You were removed from the group '%(group)s' by '%(operator)s'")),
    "made_admin": (
        Type.ROLE_CHANGED,
        _("'%(operator)s' made you an admin of the group '%(group)s'"),
    ),
    "admin_removed": (
        Type.ROLE_CHANGED,
        _("'%(operator)s' removed your admin role in the group '%(group)s'"),
    ),
    "ownership_transferred": (
        Type.OWNERSHIP_TRANSFERRED,
        _("You have been made the new owner of the group '%(group)s' by '%(operator)s'"),
    ),
    "muted": (
        Type.MUTE_CHANGED,
        _("'%(operator)s' muted you in the group '%(group)s' for %(time)s"),
    ),
    "unmuted": (Type.MUTE_CHANGED, _("'%(operator)s' unmuted you in the group '%(group)s'")),
    "dismissed": (
        Type.GROUP_DISMISSED,
        _("The group '%(group)s' was dismissed by '%(operator)s'"),
    ),
    "updated": (Type.GROUP_UPDATED, _("'%(operator)s' updated the info of the group '%(group)s'")),
}


def duration_text(seconds: int) -> str:
    """``3600`` -> "1 hour": the largest unit that divides the duration exactly."""
    for unit, singular, plural in (
        (86400, "%(count)d day", "%(count)d days"),
        (3600, "%(count)d hour", "%(count)d hours"),
        (60, "%(count)d minute", "%(count)d minutes"),
    ):
        if seconds % unit == 0:
            count = seconds // unit
            return ngettext(singular, plural, count) % {"count": count}
    return ngettext("%(count)d second", "%(count)d seconds", seconds) % {"count": seconds}


def _rows(
    kind: str,
    *,
    group: Group,
    operator: User | None,
    seconds: int,
    to: Iterable[tuple[int, User | None]],
) -> list[GroupNotification]:
    """One row of ``kind`` per (recipient id, target) in ``to``."""
    rows = []
    messages: dict[int | None, str] = {}  # by target: the same text for every recipient
    for recipient_id, target in to:
        key = target.pk if target is not None else None
        if key not in messages:
            with translation.override(settings.LANGUAGE_CODE):
                messages[key] = str(NOTICES[kind][1]) % {
                    "user": display_name(target),
                    "operator": display_name(operator),
                    "group": group.name,
                    "time": duration_text(seconds) if seconds else "",
                }
        message = messages[key]
        rows.append(
            GroupNotification(
                recipient_id=recipient_id,
                type=NOTICES[kind][0],
                group=group,
                operator=operator,
                target_user=target,
                message=message,
            )
        )
    return group_notifications_create(rows)


def notify(
    kind: str,
    *,
    group: Group,
    operator: User | None,
    to: Iterable[int],
    target: User | None = None,
    seconds: int = 0,
) -> list[GroupNotification]:
    """One row of ``kind`` about ``target`` for each user id in ``to`` (each once)."""
    recipients = [(user_id, target) for user_id in dict.fromkeys(to)]
    return _rows(kind, group=group, operator=operator, seconds=seconds, to=recipients)


def notify_each(
    kind: str, *, group: Group, operator: User, targets: Iterable[User]
) -> list[GroupNotification]:
    """One row of ``kind`` to each target, about that target."""
    recipients = [(target.pk, target) for target in targets]
    return _rows(kind, group=group, operator=operator, seconds=0, to=recipients)
