"""API.md section 4 (``/friend/unblock`` is an addition); 6.1 and 6.2 are in notifications."""

from django.urls import path

from social.views import FriendRequestViewSet, FriendViewSet

urlpatterns = [
    path("friend/request/send", FriendRequestViewSet.as_view({"post": "send"})),
    path("friend/request/handle", FriendRequestViewSet.as_view({"post": "handle"})),
    path("friend/list", FriendViewSet.as_view({"get": "list"})),
    path("friend/delete", FriendViewSet.as_view({"delete": "remove"})),
    path("friend/block", FriendViewSet.as_view({"post": "block"})),
    path("friend/unblock", FriendViewSet.as_view({"post": "unblock"})),
    path("friend/blocked/list", FriendViewSet.as_view({"get": "blocked_list"})),
    path("friend/remark", FriendViewSet.as_view({"put": "remark"})),
]
