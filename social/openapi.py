"""Schema-only serializers: the shapes of ``data`` that the views build as plain dicts.

They document responses in the OpenAPI schema (``/api/schema``); nothing serializes with them.
"""

from typing import Any

from rest_framework import serializers

from imserver.api.schema import listing
from social.serializers import BlockedFriendSerializer, FriendRequestSerializer, FriendSerializer


class FriendRequestSentSerializer(serializers.Serializer[Any]):
    request_id = serializers.IntegerField()


FriendListSerializer = listing("FriendList", "friends", FriendSerializer)


BlockedListSerializer = listing("BlockedList", "friends", BlockedFriendSerializer)


FriendRequestInboxSerializer = listing("FriendRequestInbox", "requests", FriendRequestSerializer)


class CountSerializer(serializers.Serializer[Any]):
    count = serializers.IntegerField()
