from django.urls import path

from notifications.group_views import (
    GroupApplicationNotificationViewSet,
    GroupNotificationViewSet,
)

urlpatterns = [
    path(
        "notification/group/notifications",
        GroupNotificationViewSet.as_view({"get": "list"}),
    ),
    path(
        "notification/request/group",
        GroupApplicationNotificationViewSet.as_view({"get": "list"}),
    ),
    path(
        "notification/request/group/unread-count",
        GroupApplicationNotificationViewSet.as_view({"get": "unread_count"}),
    ),
]
