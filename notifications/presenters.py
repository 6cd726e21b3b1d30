"""The 6.3 object: a group notification as the list (6.3) and the ``group_notification`` push
show it. Needs ``operator``, ``target_user`` and ``group`` loaded (select_related or the rows
just built from those objects) to stay at a constant number of queries."""

from typing import Any

from accounts.models import display_name
from notifications.models import GroupNotification


def group_notification_data(row: GroupNotification) -> dict[str, Any]:
    return {
        "id": row.pk,
        "type": row.type,
        "group_id": row.group_id,
        "operator_id": row.operator_id,
        "target_user_id": row.target_user_id,
        "message": row.message,
        "timestamp": int(row.created_at.timestamp()),
        "is_read": row.is_read,
        "operator_nickname": display_name(row.operator),
        "operator_avatar": row.operator.avatar if row.operator is not None else "",
        "target_user_nickname": display_name(row.target_user),
        "target_user_avatar": row.target_user.avatar if row.target_user is not None else "",
        "group_name": row.group.name,
    }
