"""Schema-only serializers: the shapes of ``data`` that the views build as plain dicts.

They document responses in the OpenAPI schema (``/api/schema``); nothing serializes with them.
"""

from rest_framework import serializers

from notifications.serializers import GroupApplicationItemSerializer, GroupNotificationSerializer


class GroupNotificationListSerializer(serializers.Serializer):
    notifications = GroupNotificationSerializer(many=True)
    total = serializers.IntegerField()


class GroupApplicationListSerializer(serializers.Serializer):
    applications = GroupApplicationItemSerializer(many=True)
    total = serializers.IntegerField()


class UnreadApplicationsSerializer(serializers.Serializer):
    total_unread_count = serializers.IntegerField()
