"""Section 6.3-6.5: group notifications and join applications for the groups I manage."""

from functools import partial

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.response import Response

from accounts.authentication import AuthenticatedRequest
from groups import selectors as group_selectors
from groups import services as group_services
from imserver.api.pagination import listed_page
from imserver.api.schema import page_parameters, responses
from notifications import services
from notifications.openapi import (
    GroupApplicationListSerializer,
    GroupNotificationListSerializer,
    UnreadApplicationsSerializer,
)
from notifications.serializers import GroupApplicationItemSerializer, GroupNotificationSerializer


class GroupNotificationViewSet(viewsets.ViewSet):
    @extend_schema(
        summary="6.3 My group notifications, newest first (marks them read)",
        parameters=page_parameters(),
        responses=responses(GroupNotificationListSerializer),
    )
    def list(self, request: AuthenticatedRequest) -> Response:
        """6.3: mine, newest first; listing marks them read (``is_read`` shows the old value)."""
        read = partial(services.group_notifications_list_and_mark_read, user=request.user)
        return Response(
            listed_page(request, read, key="notifications", serializer=GroupNotificationSerializer)
        )


class GroupApplicationNotificationViewSet(viewsets.ViewSet):
    @extend_schema(
        summary="6.4 Pending join applications for groups I own or administer",
        parameters=page_parameters(),
        responses=responses(GroupApplicationListSerializer),
    )
    def list(self, request: AuthenticatedRequest) -> Response:
        """6.4: pending applications for groups I own or administer, newest arrival first."""
        read = partial(group_services.group_applications_list_and_mark_seen, user=request.user)
        return Response(
            listed_page(
                request, read, key="applications", serializer=GroupApplicationItemSerializer
            )
        )

    @extend_schema(
        summary="6.5 Join applications arrived since I last listed 6.4",
        responses=responses(UnreadApplicationsSerializer),
    )
    def unread_count(self, request: AuthenticatedRequest) -> Response:
        """6.5: applications that arrived or were renewed since I last listed 6.4."""
        count = group_selectors.group_applications_unread_count(user=request.user)
        return Response({"total_unread_count": count})
