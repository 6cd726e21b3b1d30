from rest_framework import serializers

from accounts.models import User, display_name
from groups.models import GroupApplication
from imserver.api.fields import UnixTimestampField
from notifications.models import GroupNotification


def _avatar(user: User | None) -> str:
    return user.avatar if user is not None else ""


class GroupNotificationSerializer(serializers.ModelSerializer):
    """The 6.3 object, also the ``data`` of the ``group_notification`` push.

    Needs ``operator``, ``target_user`` and ``group`` loaded (select_related) to stay at a
    constant number of queries.
    """

    timestamp = UnixTimestampField(source="created_at")
    operator_nickname = serializers.SerializerMethodField()
    operator_avatar = serializers.SerializerMethodField()
    target_user_nickname = serializers.SerializerMethodField()
    target_user_avatar = serializers.SerializerMethodField()
    group_name = serializers.CharField(source="group.name", read_only=True)

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

    def get_operator_nickname(self, obj: GroupNotification) -> str:
        return display_name(obj.operator)

    def get_operator_avatar(self, obj: GroupNotification) -> str:
        return _avatar(obj.operator)

    def get_target_user_nickname(self, obj: GroupNotification) -> str:
        return display_name(obj.target_user)

    def get_target_user_avatar(self, obj: GroupNotification) -> str:
        return _avatar(obj.target_user)


class GroupApplicationItemSerializer(serializers.ModelSerializer):
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
