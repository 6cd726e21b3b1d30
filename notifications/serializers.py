from typing import Any

from rest_framework import serializers

from accounts.models import display_name
from groups.models import GroupApplication
from imserver.api.fields import UnixTimestampField
from notifications.models import GroupNotification
from notifications.presenters import group_notification_data


class GroupNotificationSerializer(serializers.ModelSerializer[GroupNotification]):
    """The 6.3 object, also the ``data`` of the ``group_notification`` push: the fields for the
    schema, the values from ``notifications.presenters`` (one representation for both)."""

    timestamp = UnixTimestampField(source="created_at")
    operator_nickname = serializers.CharField(read_only=True)
    operator_avatar = serializers.CharField(read_only=True)
    target_user_nickname = serializers.CharField(read_only=True)
    target_user_avatar = serializers.CharField(read_only=True)
    group_name = serializers.CharField(read_only=True)

    class Meta:
        model = GroupNotification
        fields = [
            "id",
            "type",
            "group_id",
            "operator_id",
            "target_user_id",
            "message",
            "timestamp",
            "is_read",
            "operator_nickname",
            "operator_avatar",
            "target_user_nickname",
            "target_user_avatar",
            "group_name",
        ]
        read_only_fields = fields

    def to_representation(self, instance: GroupNotification) -> dict[str, Any]:
        return group_notification_data(instance)


class GroupApplicationItemSerializer(serializers.ModelSerializer[GroupApplication]):
    """The 6.4 object. ``apply_time`` is when the application arrived or was last renewed."""

    apply_time = UnixTimestampField(source="arrived_at")
    user_nickname = serializers.SerializerMethodField()
    user_avatar = serializers.CharField(source="user.avatar", read_only=True)
    group_name = serializers.CharField(source="group.name", read_only=True)
    group_avatar = serializers.CharField(source="group.avatar", read_only=True)

    class Meta:
        model = GroupApplication
        fields = [
            "id",
            "group_id",
            "user_id",
            "reason",
            "apply_time",
            "user_nickname",
            "user_avatar",
            "group_name",
            "group_avatar",
            "status",
        ]
        read_only_fields = fields

    def get_user_nickname(self, obj: GroupApplication) -> str:
        return display_name(obj.user)
