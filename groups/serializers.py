from rest_framework import serializers

from groups.models import Group
from imserver.api.fields import UnixTimestampField


class GroupSerializer(serializers.ModelSerializer):
    """The group object of API.md 3.1, 5.2 and 5.3."""

    owner_id = serializers.IntegerField(read_only=True)
    create_at = UnixTimestampField(source="created_at")
    update_at = UnixTimestampField(source="updated_at")

    class Meta:
        model = Group
        fields = [
            "id",
            "name",
            "description",
            "avatar",
            "owner_id",
            "member_count",
            "max_member_count",
            "status",
            "create_at",
            "update_at",
        ]
        read_only_fields = fields
