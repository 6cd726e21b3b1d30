"""API.md 6.1 and 6.2: the recipient's side of friend requests, served by ``social``."""

from django.urls import path

from social.views import FriendRequestViewSet

urlpatterns = [
    path("notification/request/friend", FriendRequestViewSet.as_view({"get": "inbox"})),
    path(
        "notification/request/friend/unread-count",
        FriendRequestViewSet.as_view({"get": "unread_count"}),
    ),
]
