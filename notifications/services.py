"""Group notification rows (CONTRACT 2 types 1-11, API.md 6.3): written with their pushes, listed
and marked read. What each group event says, and to whom, is ``groups.notices``."""

from django.db import transaction

from accounts.models import User
from imserver.publish import publish_on_commit
from notifications.models import GroupNotification
from notifications.presenters import group_notification_data

PUSH_EVENT = "group_notification"


def group_notifications_create(rows: list[GroupNotification]) -> list[GroupNotification]:
    """Store ``rows`` in one statement; each goes to its recipient as a push after commit."""
    GroupNotification.objects.bulk_create(rows)
    for row in rows:
        publish_on_commit([row.recipient_id], PUSH_EVENT, group_notification_data(row))
    return rows


@transaction.atomic
def group_notifications_list_and_mark_read(
    *, user: User, offset: int, limit: int
) -> tuple[list[GroupNotification], int]:
    """A page of my notifications, newest first, with ``is_read`` as it was, and their total;
    then the page is marked read. Four queries whatever the page size."""
    mine = GroupNotification.objects.filter(recipient=user)
    total = mine.count()
    newest_first = mine.select_related("operator", "target_user", "group").order_by("-id")
    rows = list(newest_first[offset : offset + limit])
    unread_ids = [row.pk for row in rows if not row.is_read]
    if unread_ids:
        GroupNotification.objects.filter(pk__in=unread_ids).update(is_read=True)
    return rows, total
