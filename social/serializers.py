from typing import Any

from rest_framework import serializers

from imserver.api.fields import DisplayNameField, IdField, TrimmedCharField, UnixTimestampField
from realtime.presence import OFFLINE, ONLINE
from social.models import FriendRequest, Friendship
from social.presenters import friend_request_data

# --- Output ---------------------------------------------------------------------------------


class FriendSerializer(serializers.ModelSerializer[Friendship]):
    """A friend of API.md 4.3, plus my ``remark``.

    ``online_ids`` in the context is the set of online friend ids, read once for the whole list,
    of the friends whose presence I may see (``presence_audience_ids``): a friend who has blocked
    me shows ``online_status`` 0.
    """

    user_id = serializers.IntegerField(read_only=True)
    friend_id = serializers.IntegerField(read_only=True)
    create_at = UnixTimestampField(source="created_at")
    update_at = UnixTimestampField(source="updated_at")
    nickname = serializers.CharField(source="friend.nickname", read_only=True)
    avatar = serializers.CharField(source="friend.avatar", read_only=True)
    online_status = serializers.SerializerMethodField()

    class Meta:
        model = Friendship
        fields = [
            "id",
            "user_id",
            "friend_id",
            "status",
            "create_at",
            "update_at",
            "nickname",
            "avatar",
            "online_status",
            "remark",
        ]
        read_only_fields = fields

    def get_online_status(self, friendship: Friendship) -> int:
        return ONLINE if friendship.friend_id in self.context["online_ids"] else OFFLINE


class BlockedFriendSerializer(serializers.ModelSerializer[Friendship]):
    """A blocked user of API.md 4.6."""

    user_id = serializers.IntegerField(read_only=True)
    friend_id = serializers.IntegerField(read_only=True)
    create_at = UnixTimestampField(source="created_at")
    update_at = UnixTimestampField(source="updated_at")

    class Meta:
        model = Friendship
        fields = ["id", "user_id", "friend_id", "remark", "status", "create_at", "update_at"]
        read_only_fields = fields


class FriendRequestSerializer(serializers.ModelSerializer[FriendRequest]):
    """A friend request of API.md 6.1 (also the ``friend_request*`` push data): the fields for
    the schema, the values from ``social.presenters`` (one representation for both).

    ``handle_message`` (an addition) is the recipient's reason given when handling it.
    """

    from_user_id = serializers.IntegerField(read_only=True)
    to_user_id = serializers.IntegerField(read_only=True)
    create_at = UnixTimestampField(source="created_at")
    update_at = UnixTimestampField(source="updated_at")
    from_nickname = serializers.CharField(source="from_user.nickname", read_only=True)
    from_avatar = serializers.CharField(source="from_user.avatar", read_only=True)
    to_nickname = serializers.CharField(source="to_user.nickname", read_only=True)
    to_avatar = serializers.CharField(source="to_user.avatar", read_only=True)

    class Meta:
        model = FriendRequest
        fields = [
            "id",
            "from_user_id",
            "to_user_id",
            "message",
            "status",
            "create_at",
            "update_at",
            "from_nickname",
            "from_avatar",
            "to_nickname",
            "to_avatar",
            "handle_message",
        ]
        read_only_fields = fields

    def to_representation(self, instance: FriendRequest) -> dict[str, Any]:
        return friend_request_data(instance)


# --- Input ----------------------------------------------------------------------------------


class FriendRequestSendInputSerializer(serializers.Serializer[Any]):
    to_user_id = IdField()
    message = TrimmedCharField(max_length=255, required=False, allow_blank=True, default="")


class FriendRequestHandleInputSerializer(serializers.Serializer[Any]):
    request_id = IdField()
    action = serializers.ChoiceField(
        choices=[FriendRequest.Status.ACCEPTED.value, FriendRequest.Status.REJECTED.value]
    )
    message = TrimmedCharField(max_length=255, required=False, allow_blank=True, default="")


class FriendIdInputSerializer(serializers.Serializer[Any]):
    friend_id = IdField()


class RemarkInputSerializer(serializers.Serializer[Any]):
    user_id = IdField()
    remark = DisplayNameField(max_length=50, allow_blank=True)
