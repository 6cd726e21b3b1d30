"""Section 4 (friends) and the friend half of section 6 (6.1, 6.2). Thin: validate, call, return."""

from functools import partial

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.response import Response

from accounts.authentication import AuthenticatedRequest
from imserver.api.pagination import listed_page
from imserver.api.schema import ConfirmationSerializer, page_parameters, responses
from imserver.api.validation import validated
from realtime.presence import online_user_ids
from social import selectors, services
from social.openapi import (
    BlockedListSerializer,
    CountSerializer,
    FriendListSerializer,
    FriendRequestInboxSerializer,
    FriendRequestSentSerializer,
)
from social.serializers import (
    BlockedFriendSerializer,
    FriendIdInputSerializer,
    FriendRequestHandleInputSerializer,
    FriendRequestSendInputSerializer,
    FriendRequestSerializer,
    FriendSerializer,
    RemarkInputSerializer,
)


class FriendRequestViewSet(viewsets.ViewSet):
    """4.1, 4.2, and the recipient's inbox: 6.1 and 6.2 (routed from ``notifications``)."""

    @extend_schema(
        summary="4.1 Send a friend request (a pending one in the other direction is accepted)",
        request=FriendRequestSendInputSerializer,
        responses=responses(FriendRequestSentSerializer, 403, 404, 409),
    )
    def send(self, request: AuthenticatedRequest) -> Response:
        data = validated(FriendRequestSendInputSerializer, request.data)
        friend_request = services.friend_request_send(from_user=request.user, **data)
        return Response({"request_id": friend_request.pk})

    @extend_schema(
        summary="4.2 Accept (2) or reject (3) a friend request sent to me",
        request=FriendRequestHandleInputSerializer,
        responses=responses(FriendRequestSerializer, 403, 404, 409),
    )
    def handle(self, request: AuthenticatedRequest) -> Response:
        data = validated(FriendRequestHandleInputSerializer, request.data)
        friend_request = services.friend_request_handle(user=request.user, **data)
        return Response(FriendRequestSerializer(friend_request).data)

    @extend_schema(
        summary="6.1 Friend requests sent to me, newest first (marks them read)",
        parameters=page_parameters(),
        responses=responses(FriendRequestInboxSerializer),
    )
    def inbox(self, request: AuthenticatedRequest) -> Response:
        read = partial(services.friend_request_inbox_read, user=request.user)
        return Response(
            listed_page(request, read, key="requests", serializer=FriendRequestSerializer)
        )

    @extend_schema(
        summary="6.2 Pending friend requests to me not yet listed",
        responses=responses(CountSerializer),
    )
    def unread_count(self, request: AuthenticatedRequest) -> Response:
        return Response({"count": selectors.friend_request_unread_count(user_id=request.user.pk)})


class FriendViewSet(viewsets.ViewSet):
    """4.3-4.7 and ``POST /friend/unblock``."""

    @extend_schema(summary="4.3 My friends", responses=responses(FriendListSerializer))
    def list(self, request: AuthenticatedRequest) -> Response:
        friendships = list(selectors.friendship_list(user_id=request.user.pk))
        # Presence only of those in my presence audience: not of a friend who blocked me.
        online_ids = online_user_ids(
            friendship.friend_id for friendship in friendships if not friendship.blocked_me
        )
        friends = FriendSerializer(friendships, many=True, context={"online_ids": online_ids})
        return Response({"friends": friends.data, "total": len(friendships)})

    @extend_schema(
        summary="4.4 Delete a friend (both directions); friend_id in the query or a JSON body",
        parameters=[FriendIdInputSerializer],
        responses=responses(ConfirmationSerializer, 404),
    )
    def remove(self, request: AuthenticatedRequest) -> Response:
        # The parameter may come in the JSON body or in the query string (CONTRACT 1).
        source = request.data if "friend_id" in request.data else request.query_params
        services.friendship_delete(user=request.user, **validated(FriendIdInputSerializer, source))
        return Response({"message": _("Friend deleted")})

    @extend_schema(
        summary="4.5 Block a user (friend or not); 40009 when already blocked",
        request=FriendIdInputSerializer,
        responses=responses(ConfirmationSerializer, 404, 409),
    )
    def block(self, request: AuthenticatedRequest) -> Response:
        services.friend_block(user=request.user, **validated(FriendIdInputSerializer, request.data))
        return Response({"message": _("User blocked")})

    @extend_schema(
        summary="Unblock a user (an addition)",
        request=FriendIdInputSerializer,
        responses=responses(ConfirmationSerializer, 404),
    )
    def unblock(self, request: AuthenticatedRequest) -> Response:
        data = validated(FriendIdInputSerializer, request.data)
        services.friend_unblock(user=request.user, **data)
        return Response({"message": _("User unblocked")})

    @extend_schema(summary="4.6 Users I blocked", responses=responses(BlockedListSerializer))
    def blocked_list(self, request: AuthenticatedRequest) -> Response:
        blocked = list(selectors.blocked_list(user_id=request.user.pk))
        return Response(
            {"friends": BlockedFriendSerializer(blocked, many=True).data, "total": len(blocked)}
        )

    @extend_schema(
        summary="4.7 Set my remark for a friend",
        request=RemarkInputSerializer,
        responses=responses(ConfirmationSerializer, 404),
    )
    def remark(self, request: AuthenticatedRequest) -> Response:
        services.friend_set_remark(
            user=request.user, **validated(RemarkInputSerializer, request.data)
        )
        return Response({"message": _("Remark updated")})
