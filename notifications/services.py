"""Group notifications (CONTRACT 2 types 1-11, API.md 6.3-6.5): rows, pushes, read state.

Each ``notify_*`` function writes one row per concerned user and registers a
``group_notification`` push of that row (the 6.3 object) with ``publish_on_commit``. Messages
are written in the server's default language (``LANGUAGE_CODE``), whoever triggered them.
"""

from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, PositiveBigIntegerField, Value, When
from django.db.models.functions import Greatest
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from groups.models import Group, GroupApplication, GroupMember
from groups.selectors import manager_user_ids, member_user_ids
from imserver.api.pagination import Page
from imserver.publish import publish_on_commit
from notifications.models import GroupNotification
from notifications.selectors import pending_applications_for_manager
from notifications.serializers import GroupNotificationSerializer

PUSH_EVENT = "group_notification"
Type = GroupNotification.Type


def _name(user: User | None) -> str:
    return (user.nickname or user.username) if user is not None else ""


def _render(template: Promise, **params: object) -> str:
    """The lazy ``template`` % ``params`` in the default language, not the caller's."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(template) % params


def _write_and_push(rows: list[GroupNotification]) -> list[GroupNotification]:
    GroupNotification.objects.bulk_create(rows)
    for row in rows:
        publish_on_commit([row.recipient_id], PUSH_EVENT, GroupNotificationSerializer(row).data)
    return rows


def _rows(
    *,
    type: int,
    group: Group,
    operator: User | None,
    target: User | None,
    recipient_ids: Iterable[int],
    message: str,
) -> list[GroupNotification]:
    return [
        GroupNotification(
            recipient_id=recipient_id,
            type=type,
            group=group,
            operator=operator,
            target_user=target,
            message=message,
        )
        for recipient_id in dict.fromkeys(recipient_ids)
    ]


def _single(
    *, type: int, group: Group, operator: User | None, target: User, message: str
) -> GroupNotification:
    rows = _rows(
        type=type,
        group=group,
        operator=operator,
        target=target,
        recipient_ids=[target.pk],
        message=message,
    )
    return _write_and_push(rows)[0]


def notify_application_received(*, group: Group, applicant: User) -> list[GroupNotification]:
    """Type 1, to the owner and admins; the applicant is operator and target."""
    message = _render(
        _("'%(user)s' applied to join the group '%(group)s'"),
        user=_name(applicant),
        group=group.name,
    )
    return _write_and_push(
        _rows(
            type=Type.APPLICATION_RECEIVED,
            group=group,
            operator=applicant,
            target=applicant,
            recipient_ids=manager_user_ids(group.pk),
            message=message,
        )
    )


def notify_application_handled(
    *, group: Group, operator: User, applicant: User, approved: bool
) -> GroupNotification:
    """Type 2 (approved) or 3 (rejected), to the applicant."""
    if approved:
        template = _(
            "Your application to join the group '%(group)s' was approved by '%(operator)s'"
        )
    else:
        template = _(
            "Your application to join the group '%(group)s' was rejected by '%(operator)s'"
        )
    return _single(
        type=Type.APPLICATION_APPROVED if approved else Type.APPLICATION_REJECTED,
        group=group,
        operator=operator,
        target=applicant,
        message=_render(template, group=group.name, operator=_name(operator)),
    )


def notify_invited(
    *, group: Group, operator: User, invitees: list[User]
) -> list[GroupNotification]:
    """Type 4, to each invited user."""
    message = _render(
        _("'%(operator)s' invited you to join the group '%(group)s'"),
        operator=_name(operator),
        group=group.name,
    )
    rows = [
        row
        for invitee in invitees
        for row in _rows(
            type=Type.INVITED,
            group=group,
            operator=operator,
            target=invitee,
            recipient_ids=[invitee.pk],
            message=message,
        )
    ]
    return _write_and_push(rows)


def notify_member_left(*, group: Group, leaver: User) -> list[GroupNotification]:
    """Type 5, to the owner and admins (after the leaver is gone); leaver is operator and target."""
    return _write_and_push(
        _rows(
            type=Type.MEMBER_LEFT,
            group=group,
            operator=leaver,
            target=leaver,
            recipient_ids=manager_user_ids(group.pk),
            message=_render(
                _("'%(user)s' left the group '%(group)s'"), user=_name(leaver), group=group.name
            ),
        )
    )


def notify_kicked(*, group: Group, operator: User, target: User) -> GroupNotification:
    """Type 6, to the removed member."""
    return _single(
        type=Type.KICKED,
        group=group,
        operator=operator,
        target=target,
        message=_render(
            _("You were removed from the group '%(group)s' by '%(operator)s'"),
            group=group.name,
            operator=_name(operator),
        ),
    )


def notify_role_changed(
    *, group: Group, operator: User, target: User, role: int
) -> GroupNotification:
    """Type 7, to the member whose role changed."""
    if role == GroupMember.Role.ADMIN:
        template = _("'%(operator)s' made you an admin of the group '%(group)s'")
    else:
        template = _("'%(operator)s' removed your admin role in the group '%(group)s'")
    return _single(
        type=Type.ROLE_CHANGED,
        group=group,
        operator=operator,
        target=target,
        message=_render(template, operator=_name(operator), group=group.name),
    )


def notify_ownership_transferred(
    *, group: Group, operator: User, new_owner: User
) -> GroupNotification:
    """Type 8, to the new owner."""
    return _single(
        type=Type.OWNERSHIP_TRANSFERRED,
        group=group,
        operator=operator,
        target=new_owner,
        message=_render(
            _("You have been made the new owner of the group '%(group)s' by '%(operator)s'"),
            operator=_name(operator),
            group=group.name,
        ),
    )


def _duration_text(seconds: int) -> str:
    """``3600`` -> "1 hour": the largest unit that divides the duration exactly."""
    if seconds % 86400 == 0:
        count = seconds // 86400
        text = ngettext("%(count)d day", "%(count)d days", count)
    elif seconds % 3600 == 0:
        count = seconds // 3600
        text = ngettext("%(count)d hour", "%(count)d hours", count)
    elif seconds % 60 == 0:
        count = seconds // 60
        text = ngettext("%(count)d minute", "%(count)d minutes", count)
    else:
        count = seconds
        text = ngettext("%(count)d second", "%(count)d seconds", count)
    return text % {"count": count}


def notify_mute_changed(
    *, group: Group, operator: User, target: User, duration: int
) -> GroupNotification:
    """Type 9, to the muted (``duration`` > 0) or unmuted (0) member."""
    with translation.override(settings.LANGUAGE_CODE):
        if duration:
            message = gettext("'%(operator)s' muted you in the group '%(group)s' for %(time)s") % {
                "operator": _name(operator),
                "group": group.name,
                "time": _duration_text(duration),
            }
        else:
            message = gettext("'%(operator)s' unmuted you in the group '%(group)s'") % {
                "operator": _name(operator),
                "group": group.name,
            }
    return _single(
        type=Type.MUTE_CHANGED, group=group, operator=operator, target=target, message=message
    )


def notify_group_dismissed(*, group: Group, operator: User) -> list[GroupNotification]:
    """Type 10, to every member (the owner included, for their other devices)."""
    return _write_and_push(
        _rows(
            type=Type.GROUP_DISMISSED,
            group=group,
            operator=operator,
            target=None,
            recipient_ids=member_user_ids(group.pk),
            message=_render(
                _("The group '%(group)s' was dismissed by '%(operator)s'"),
                group=group.name,
                operator=_name(operator),
            ),
        )
    )


def notify_group_updated(*, group: Group, operator: User) -> list[GroupNotification]:
    """Type 11, to every member."""
    return _write_and_push(
        _rows(
            type=Type.GROUP_UPDATED,
            group=group,
            operator=operator,
            target=None,
            recipient_ids=member_user_ids(group.pk),
            message=_render(
                _("'%(operator)s' updated the info of the group '%(group)s'"),
                operator=_name(operator),
                group=group.name,
            ),
        )
    )


# --- 6.3 and 6.4: listing marks what was listed as read --------------------------------------


@transaction.atomic
def group_notifications_list_and_mark_read(
    *, user: User, page: Page
) -> tuple[list[GroupNotification], int]:
    """A page of my notifications, newest first, with ``is_read`` as it was; then marks them read.

    Four queries whatever the page size.
    """
    mine = GroupNotification.objects.filter(recipient=user)
    total = mine.count()
    rows = list(page.slice(mine.select_related("operator", "target_user", "group").order_by("-id")))
    unread_ids = [row.pk for row in rows if not row.is_read]
    if unread_ids:
        GroupNotification.objects.filter(pk__in=unread_ids).update(is_read=True)
    return rows, total


def _managed_memberships(user: User) -> list[dict]:
    return list(
        GroupMember.objects.filter(
            user=user,
            role__in=(GroupMember.Role.ADMIN, GroupMember.Role.OWNER),
            group__status=Group.Status.NORMAL,
        ).values("pk", "group_id", "group__application_seq")
    )


@transaction.atomic
def group_applications_list_and_mark_seen(
    *, user: User, page: Page
) -> tuple[list[GroupApplication], int]:
    """Pending applications for groups I manage, newest arrival first; then marks them seen.

    What counts as seen is each group's ``application_seq`` read *before* the list: arrivals of
    one group commit in sequence order (under the group row lock), so an application committed
    later has a higher sequence and still counts as unread for 6.5, exactly once. Four queries.
    """
    seen = _managed_memberships(user)
    pending = pending_applications_for_manager(user)
    total = pending.count()
    rows = list(page.slice(pending.select_related("user", "group").order_by("-arrived_at", "-id")))
    if seen:
        newest_seen = Case(
            *[When(pk=entry["pk"], then=Value(entry["group__application_seq"])) for entry in seen],
            default=F("applications_seen_seq"),
            output_field=PositiveBigIntegerField(),
        )
        GroupMember.objects.filter(pk__in=[entry["pk"] for entry in seen]).update(
            applications_seen_seq=Greatest(F("applications_seen_seq"), newest_seen)
        )
    return rows, total
