"""Section 5 endpoints. Each action: validate, call one service or selector, return data."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.authentication import AuthenticatedRequest
from groups import selectors, services
from groups.limits import (
    group_creations_by_user,
    group_invites_by_user,
    group_joins_by_user,
    group_updates_by_user,
)
from groups.openapi import (
    ApplicationHandledSerializer,
    GroupCreatedSerializer,
    GroupInfoSerializer,
    GroupListSerializer,
    GroupMemberListSerializer,
    GroupUpdatedSerializer,
    InviteResultSerializer,
    JoinResultSerializer,
    MemberInfoResultSerializer,
    MuteResultSerializer,
)
from groups.serializers import (
    GroupCreateInputSerializer,
    GroupIdSerializer,
    GroupMemberSerializer,
    GroupMemberTargetSerializer,
    GroupSerializer,
    GroupUpdateInputSerializer,
    HandleApplicationInputSerializer,
    InviteInputSerializer,
    JoinInputSerializer,
    MemberInfoSerializer,
    MuteInputSerializer,
    SetRoleInputSerializer,
    TransferInputSerializer,
    UpdateMemberInfoInputSerializer,
)
from imserver.api.schema import ConfirmationSerializer, responses
from imserver.api.validation import validated


class GroupViewSet(viewsets.ViewSet):
    """The group itself: create, info, my list, update, join, leave, transfer, dismiss."""

    @extend_schema(
        summary="5.1 Create a group (I become its owner)",
        request=GroupCreateInputSerializer,
        responses=responses(GroupCreatedSerializer),
    )
    def create(self, request: AuthenticatedRequest) -> Response:
        data = validated(GroupCreateInputSerializer, request.data)
        group_creations_by_user.hit(request.user.pk)
        group = services.group_create(owner=request.user, **data)
        return Response({"group_id": group.pk, "group_info": GroupSerializer(group).data})

    @extend_schema(
        summary="5.2 A group's info",
        parameters=[GroupIdSerializer],
        responses=responses(GroupInfoSerializer, 404),
    )
    def info(self, request: Request) -> Response:
        data = validated(GroupIdSerializer, request.query_params)
        group = selectors.group_get_visible(**data)
        return Response({"group_info": GroupSerializer(group).data})

    @extend_schema(summary="5.3 My groups", responses=responses(GroupListSerializer))
    def list(self, request: AuthenticatedRequest) -> Response:
        groups = selectors.group_list_for_user(user_id=request.user.pk)
        return Response({"groups": GroupSerializer(groups, many=True).data, "total": len(groups)})

    @extend_schema(
        summary="5.5 Update a group's info (owner/admin; partial)",
        request=GroupUpdateInputSerializer,
        responses=responses(GroupUpdatedSerializer, 403, 404),
    )
    def update_info(self, request: AuthenticatedRequest) -> Response:
        data = validated(GroupUpdateInputSerializer, request.data)
        group_updates_by_user.hit(request.user.pk)
        group = services.group_update_info(user=request.user, **data)
        return Response(
            {"message": _("Updated successfully"), "group_info": GroupSerializer(group).data}
        )

    @extend_schema(
        summary="5.9 Apply to join a group",
        request=JoinInputSerializer,
        responses=responses(JoinResultSerializer, 404, 409),
    )
    def join(self, request: AuthenticatedRequest) -> Response:
        data = validated(JoinInputSerializer, request.data)
        group_joins_by_user.hit(request.user.pk)
        application = services.group_join_apply(user=request.user, **data)
        return Response({"message": _("Application submitted"), "application_id": application.pk})

    @extend_schema(
        summary="5.10 Leave a group (not the owner)",
        request=GroupIdSerializer,
        responses=responses(ConfirmationSerializer, 403, 404),
    )
    def leave(self, request: AuthenticatedRequest) -> Response:
        services.group_leave(user=request.user, **validated(GroupIdSerializer, request.data))
        return Response({"message": _("You left the group")})

    @extend_schema(
        summary="5.12 Transfer ownership to a member (owner only)",
        request=TransferInputSerializer,
        responses=responses(ConfirmationSerializer, 403, 404),
    )
    def transfer(self, request: AuthenticatedRequest) -> Response:
        services.group_transfer(
            user=request.user, **validated(TransferInputSerializer, request.data)
        )
        return Response({"message": _("Ownership transferred")})

    @extend_schema(
        summary="5.11 Dismiss a group (owner only)",
        request=GroupIdSerializer,
        responses=responses(ConfirmationSerializer, 403, 404),
    )
    def dismiss(self, request: AuthenticatedRequest) -> Response:
        services.group_dismiss(user=request.user, **validated(GroupIdSerializer, request.data))
        return Response({"message": _("Group dismissed")})


class GroupMemberViewSet(viewsets.ViewSet):
    """Members: list, info, roles, mute, invite, kick, my in-group nickname."""

    @extend_schema(
        summary="5.4 A group's members (members only)",
        parameters=[GroupIdSerializer],
        responses=responses(GroupMemberListSerializer, 403, 404),
    )
    def members(self, request: AuthenticatedRequest) -> Response:
        data = validated(GroupIdSerializer, request.query_params)
        members = list(selectors.group_member_list(user_id=request.user.pk, **data))
        return Response(
            {"members": GroupMemberSerializer(members, many=True).data, "total": len(members)}
        )

    @extend_schema(
        summary="5.14 A member's info (members only)",
        parameters=[GroupMemberTargetSerializer],
        responses=responses(MemberInfoResultSerializer, 403, 404),
    )
    def member_info(self, request: AuthenticatedRequest) -> Response:
        data = validated(GroupMemberTargetSerializer, request.query_params)
        member = selectors.group_member_get(
            group_id=data["group_id"], user_id=request.user.pk, target_user_id=data["user_id"]
        )
        return Response({"member_info": MemberInfoSerializer(member).data})

    @extend_schema(
        summary="5.6 Make a member admin (1) or plain member (0) (owner only)",
        request=SetRoleInputSerializer,
        responses=responses(ConfirmationSerializer, 403, 404),
    )
    def set_role(self, request: AuthenticatedRequest) -> Response:
        data = validated(SetRoleInputSerializer, request.data)
        services.group_member_set_role(
            user=request.user,
            group_id=data["group_id"],
            target_user_id=data["user_id"],
            role=data["role"],
        )
        return Response({"message": _("Role updated")})

    @extend_schema(
        summary="5.7 Mute a member for `duration` seconds (0 unmutes)",
        request=MuteInputSerializer,
        responses=responses(MuteResultSerializer, 403, 404),
    )
    def mute(self, request: AuthenticatedRequest) -> Response:
        data = validated(MuteInputSerializer, request.data)
        member = services.group_member_mute(
            user=request.user,
            group_id=data["group_id"],
            target_user_id=data["user_id"],
            duration=data["duration"],
        )
        message = _("Member muted") if data["duration"] else _("Member unmuted")
        muted_until = GroupMemberSerializer(member).data["muted_until"]
        return Response({"message": message, "muted_until": muted_until})

    @extend_schema(
        summary="5.8 Invite users (members already in are skipped)",
        request=InviteInputSerializer,
        responses=responses(InviteResultSerializer, 403, 404),
    )
    def invite(self, request: AuthenticatedRequest) -> Response:
        data = validated(InviteInputSerializer, request.data)
        group_invites_by_user.hit(request.user.pk)
        return Response(services.group_invite(user=request.user, **data))

    @extend_schema(
        summary="5.13 Remove a member (owner: anyone; admin: plain members)",
        request=GroupMemberTargetSerializer,
        responses=responses(ConfirmationSerializer, 403, 404),
    )
    def kick(self, request: AuthenticatedRequest) -> Response:
        data = validated(GroupMemberTargetSerializer, request.data)
        services.group_kick(
            user=request.user, group_id=data["group_id"], target_user_id=data["user_id"]
        )
        return Response({"message": _("Member removed")})

    @extend_schema(
        summary="5.15 Set my in-group nickname",
        request=UpdateMemberInfoInputSerializer,
        responses=responses(ConfirmationSerializer, 403, 404),
    )
    def update_member_info(self, request: AuthenticatedRequest) -> Response:
        data = validated(UpdateMemberInfoInputSerializer, request.data)
        services.group_member_update_own(user=request.user, **data)
        return Response({"message": _("Updated successfully")})


class GroupApplicationViewSet(viewsets.ViewSet):
    @extend_schema(
        summary="5.16 Approve or reject a join application (owner/admin)",
        request=HandleApplicationInputSerializer,
        responses=responses(ApplicationHandledSerializer, 403, 404, 409),
    )
    def handle(self, request: AuthenticatedRequest) -> Response:
        data = validated(HandleApplicationInputSerializer, request.data)
        application = services.group_application_handle(user=request.user, **data)
        return Response(
            {
                "message": _("Application approved")
                if data["approve"]
                else _("Application rejected"),
                "application_id": application.pk,
                "status": application.status,
            }
        )
