from django.urls import path

from groups.views import GroupApplicationViewSet, GroupMemberViewSet, GroupViewSet

urlpatterns = [
    path("group/create", GroupViewSet.as_view({"post": "create"})),
    path("group/info", GroupViewSet.as_view({"get": "info"})),
    path("group/list", GroupViewSet.as_view({"get": "list"})),
    path("group/members", GroupMemberViewSet.as_view({"get": "members"})),
    path("group/update/info", GroupViewSet.as_view({"put": "update_info"})),
    path("group/set/role", GroupMemberViewSet.as_view({"post": "set_role"})),
    path("group/mute/member", GroupMemberViewSet.as_view({"post": "mute"})),
    path("group/invite", GroupMemberViewSet.as_view({"post": "invite"})),
    path("group/join", GroupViewSet.as_view({"post": "join"})),
    path("group/leave", GroupViewSet.as_view({"post": "leave"})),
    path("group/dismiss", GroupViewSet.as_view({"post": "dismiss"})),
    path("group/transfer", GroupViewSet.as_view({"post": "transfer"})),
    path("group/kick", GroupMemberViewSet.as_view({"post": "kick"})),
    path("group/member_info", GroupMemberViewSet.as_view({"get": "member_info"})),
    path("group/update/member_info", GroupMemberViewSet.as_view({"put": "update_member_info"})),
    path("group/request/handle", GroupApplicationViewSet.as_view({"post": "handle"})),
]
