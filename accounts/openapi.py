"""Schema-only serializers: the shapes of ``data`` that the views build as plain dicts.

They document responses in the OpenAPI schema (``/api/schema``); nothing serializes with them.
"""

from rest_framework import serializers

from accounts.serializers import UserSerializer
from groups.serializers import GroupSerializer


class TokenPairSerializer(serializers.Serializer):
    access_token = serializers.CharField(help_text="JWT, 2 h by default")
    refresh_token = serializers.CharField(help_text="JWT, 7 days; single use (rotated)")


class PasswordChangedSerializer(TokenPairSerializer):
    message = serializers.CharField()


class SearchResultSerializer(serializers.Serializer):
    groups = GroupSerializer(many=True)
    totalGroups = serializers.IntegerField()
    totalUsers = serializers.IntegerField()
    users = UserSerializer(many=True)
