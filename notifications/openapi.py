"""Schema-only serializers: the shapes of ``data`` that the views build as plain dicts.

They document responses in the OpenAPI schema (``/api/schema``); nothing serializes with them.
"""

from typing import Any

from rest_framework import serializers

from imserver.api.schema import listing
from notifications.serializers import GroupApplicationItemSerializer, GroupNotificationSerializer

GroupNotificationListSerializer = listing(
    "GroupNotificationList", "notifications", GroupNotificationSerializer
)


GroupApplicationListSerializer = listing(
    "GroupApplicationList", "applications", GroupApplicationItemSerializer
)


class UnreadApplicationsSerializer(serializers.Serializer[Any]):
    total_unread_count = serializers.IntegerField()
