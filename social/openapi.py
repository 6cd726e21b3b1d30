"""Schema-only serializers: the shapes of ``data`` that the views build as plain dicts.

They document responses in the OpenAPI schema (``/api/schema``); nothing serializes with them.
"""

from rest_framework import serializers

from social.serializers import BlockedFriendSerializer, FriendRequestSerializer, FriendSerializer


class FriendRequestSentSerializer(serializers.Serializer):
    request_id = serializers.IntegerField()


class FriendListSerializer(serializers.Serializer):
    friends = FriendSerializer(many=True)
    total = serializers.IntegerField()


class BlockedListSerializer(serializers.Serializer):
    friends = BlockedFriendSerializer(many=True)
    total = serializers.IntegerField()


class FriendRequestInboxSerializer(serializers.Serializer):
    requests = FriendRequestSerializer(many=True)
    total = serializers.IntegerField()


class CountSerializer(serializers.Serializer):
    count = serializers.IntegerField()
