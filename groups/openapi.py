"""Groups in the OpenAPI schema (``/api/schema``): the extension of ``MutedUntilField``
(``groups/apps.py`` imports this module, so drf-spectacular knows it before a schema is built)
and schema-only serializers, the shapes of ``data`` that the views build as plain dicts;
nothing serializes with them.
"""

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from groups.serializers import GroupMemberSerializer, GroupSerializer
from imserver.api.schema import listing


class MutedUntilFieldExtension(OpenApiSerializerFieldExtension):
    """``groups.serializers.MutedUntilField``: unix seconds, or null when not muted."""

    target_class = "groups.serializers.MutedUntilField"

    def map_serializer_field(self, auto_schema: AutoSchema, direction: str) -> dict[str, Any]:
        return {
            "type": "integer",
            "nullable": True,
            "description": "unix seconds, null if not muted",
        }


class GroupCreatedSerializer(serializers.Serializer[Any]):
    group_id = serializers.IntegerField()
    group_info = GroupSerializer()


class GroupInfoSerializer(serializers.Serializer[Any]):
    group_info = GroupSerializer()


class GroupUpdatedSerializer(GroupInfoSerializer):
    message = serializers.CharField()


GroupListSerializer = listing("GroupList", "groups", GroupSerializer)


GroupMemberListSerializer = listing("GroupMemberList", "members", GroupMemberSerializer)


class MuteResultSerializer(serializers.Serializer[Any]):
    message = serializers.CharField()
    muted_until = serializers.IntegerField(
        allow_null=True, help_text="unix seconds; null when unmuted"
    )


class InviteResultSerializer(serializers.Serializer[Any]):
    added = serializers.ListField(child=serializers.IntegerField())
    skipped = serializers.ListField(child=serializers.IntegerField())


class JoinResultSerializer(serializers.Serializer[Any]):
    message = serializers.CharField()
    application_id = serializers.IntegerField()


class MemberInfoDetailSerializer(serializers.Serializer[Any]):
    group_id = serializers.IntegerField()
    user_id = serializers.IntegerField()
    role = serializers.ChoiceField(choices=[0, 1, 2], help_text="0 member, 1 admin, 2 owner")
    nickname = serializers.CharField()
    join_time = serializers.IntegerField(help_text="unix seconds")
    muted_until = serializers.IntegerField(allow_null=True, help_text="unix seconds or null")


class MemberUserInfoSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    username = serializers.CharField()
    nickname = serializers.CharField()
    avatar = serializers.CharField()


class MemberInfoPairSerializer(serializers.Serializer[Any]):
    member_info = MemberInfoDetailSerializer()
    user_info = MemberUserInfoSerializer()


class MemberInfoResultSerializer(serializers.Serializer[Any]):
    member_info = MemberInfoPairSerializer()


class ApplicationHandledSerializer(serializers.Serializer[Any]):
    message = serializers.CharField()
    application_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=[1, 2, 3], help_text="2 approved, 3 rejected")
