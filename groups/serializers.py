from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.models import display_name
from accounts.serializers import avatar_field
from groups.models import Group, GroupMember
from groups.services import MAX_MUTE_SECONDS
from imserver.api.fields import DisplayNameField, IdField, TrimmedCharField, UnixTimestampField

MAX_INVITE_IDS = 500


class GroupSerializer(serializers.ModelSerializer[Group]):
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


def member_display_nickname(member: GroupMember) -> str:
    """The in-group nickname, falling back to the user's nickname (then username)."""
    return member.nickname or display_name(member.user)


class MutedUntilField(serializers.Field[GroupMember, Any, int | None, GroupMember]):
    """Unix seconds while the mute lasts, ``null`` when not muted (or expired). Read-only; its
    source is the whole member (the type arguments: value, data, representation, instance)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("source", "*")
        super().__init__(**kwargs)

    def to_representation(self, member: GroupMember) -> int | None:
        if member.muted_until is None or member.muted_until <= timezone.now():
            return None
        return int(member.muted_until.timestamp())


class GroupMemberSerializer(serializers.ModelSerializer[GroupMember]):
    """The member object of API.md 5.4 (plus ``avatar`` and ``muted_until``). Needs ``user``."""

    group_id = serializers.IntegerField(read_only=True)
    user_id = serializers.IntegerField(read_only=True)
    nickname = serializers.SerializerMethodField()
    avatar = serializers.CharField(source="user.avatar", read_only=True)
    join_time = UnixTimestampField(source="joined_at")
    update_at = UnixTimestampField(source="updated_at")
    muted_until = MutedUntilField()

    class Meta:
        model = GroupMember
        fields = [
            "id",
            "group_id",
            "user_id",
            "role",
            "nickname",
            "avatar",
            "join_time",
            "update_at",
            "muted_until",
        ]
        read_only_fields = fields

    def get_nickname(self, member: GroupMember) -> str:
        return member_display_nickname(member)


class MemberInfoSerializer(serializers.Serializer[Any]):
    """``member_info`` of API.md 5.14: ``{"member_info": {...}, "user_info": {...}}``."""

    def to_representation(self, member: GroupMember) -> dict[str, Any]:
        user = member.user
        return {
            "member_info": {
                "group_id": member.group_id,
                "user_id": member.user_id,
                "role": member.role,
                "nickname": member_display_nickname(member),
                "join_time": UnixTimestampField().to_representation(member.joined_at),
                "muted_until": MutedUntilField().to_representation(member),
            },
            "user_info": {
                "id": user.pk,
                "username": user.username,
                "nickname": user.nickname,
                "avatar": user.avatar,
            },
        }


# --- input ----------------------------------------------------------------------------------


def group_name_field(**kwargs: object) -> serializers.CharField:
    return DisplayNameField(min_length=1, max_length=50, **kwargs)


def description_field(**kwargs: object) -> serializers.CharField:
    return TrimmedCharField(max_length=500, allow_blank=True, **kwargs)


class GroupCreateInputSerializer(serializers.Serializer[Any]):
    """``group_name`` (or its alias ``name``) 1-50, ``description`` 0-500, ``avatar`` URL."""

    group_name = group_name_field(required=False)
    name = group_name_field(required=False)
    description = description_field(required=False, default="")
    avatar = avatar_field(required=False, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        name = attrs.pop("group_name", None) or attrs.pop("name", None)
        attrs.pop("name", None)
        if not name:
            raise serializers.ValidationError({"group_name": [_("This field is required.")]})
        return {**attrs, "name": name}


class GroupIdSerializer(serializers.Serializer[Any]):
    group_id = IdField()


class GroupUpdateInputSerializer(GroupIdSerializer):
    """Partial: omitted fields keep their values. ``group_name`` is accepted for ``name``."""

    name = group_name_field(required=False)
    group_name = group_name_field(required=False)
    description = description_field(required=False)
    avatar = avatar_field(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        alias = attrs.pop("group_name", None)
        if alias is not None and "name" not in attrs:
            attrs["name"] = alias
        return attrs


class GroupMemberTargetSerializer(GroupIdSerializer):
    user_id = IdField()


class SetRoleInputSerializer(GroupMemberTargetSerializer):
    role = serializers.ChoiceField(
        choices=[GroupMember.Role.MEMBER.value, GroupMember.Role.ADMIN.value],
        error_messages={"invalid_choice": _("must be 0 (member) or 1 (admin)")},
    )


class MuteInputSerializer(GroupMemberTargetSerializer):
    duration = serializers.IntegerField(min_value=0, max_value=MAX_MUTE_SECONDS)


class InviteInputSerializer(GroupIdSerializer):
    user_ids = serializers.ListField(child=IdField(), allow_empty=False, max_length=MAX_INVITE_IDS)


class JoinInputSerializer(GroupIdSerializer):
    reason = TrimmedCharField(max_length=200, required=False, allow_blank=True, default="")


class TransferInputSerializer(GroupIdSerializer):
    new_owner_id = IdField()


class UpdateMemberInfoInputSerializer(GroupIdSerializer):
    nickname = DisplayNameField(max_length=50, allow_blank=True)


class HandleApplicationInputSerializer(serializers.Serializer[Any]):
    application_id = IdField()
    approve = serializers.BooleanField()
