"""Group reads. Chat reads membership through ``member_or_none``, ``member_user_ids`` and
``membership_require`` (which tells an unknown/dismissed group, 40004, from a non-member, 40003).
"""

from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from groups.models import MANAGER_ROLES, Group, GroupApplication, GroupMember
from imserver.api.errors import AppError, ErrorCode

GROUP_NOT_FOUND = _("Group not found")
NOT_A_MEMBER = _("You are not a member of this group")
TARGET_NOT_A_MEMBER = _("The user is not a member of this group")


def group_search(*, keyword: str) -> QuerySet[Group]:
    """Normal groups whose name contains ``keyword`` (case-insensitive), newest first."""
    return Group.objects.filter(Q(name__icontains=keyword), status=Group.Status.NORMAL).order_by(
        "-id"
    )


def group_get_visible(*, group_id: int) -> Group:
    """A normal group; unknown or dismissed is 40004."""
    group = Group.objects.filter(pk=group_id, status=Group.Status.NORMAL).first()
    if group is None:
        raise AppError(ErrorCode.NOT_FOUND, GROUP_NOT_FOUND)
    return group


def member_or_none(group_id: int, user_id: int) -> GroupMember | None:
    """The membership (with its group loaded, whatever the group's status), or None. One query."""
    return (
        GroupMember.objects.select_related("group")
        .filter(group_id=group_id, user_id=user_id)
        .first()
    )


def member_user_ids(group_id: int) -> list[int]:
    """Ids of every current member of the group. One query."""
    return list(
        GroupMember.objects.filter(group_id=group_id)
        .order_by("id")
        .values_list("user_id", flat=True)
    )


def membership_require(*, group_id: int, user_id: int) -> GroupMember:
    """The caller's membership of a normal group (group loaded).

    Unknown or dismissed group: 40004. A normal group the user is not a member of: 40003.
    """
    member = member_or_none(group_id, user_id)
    if member is not None:
        if member.group.is_dismissed:
            raise AppError(ErrorCode.NOT_FOUND, GROUP_NOT_FOUND)
        return member
    group_get_visible(group_id=group_id)
    raise AppError(ErrorCode.FORBIDDEN, NOT_A_MEMBER)


def group_list_for_user(*, user_id: int) -> list[Group]:
    """The normal groups the user belongs to, in the order they joined. One query."""
    memberships = (
        GroupMember.objects.filter(user_id=user_id, group__status=Group.Status.NORMAL)
        .select_related("group")
        .order_by("id")
    )
    return [membership.group for membership in memberships]


def group_member_list(*, group_id: int, user_id: int) -> QuerySet[GroupMember]:
    """Members of a group the caller belongs to: owner first, then admins, then by join order."""
    membership_require(group_id=group_id, user_id=user_id)
    return (
        GroupMember.objects.filter(group_id=group_id).select_related("user").order_by("-role", "id")
    )


def group_member_get(*, group_id: int, user_id: int, target_user_id: int) -> GroupMember:
    """One member's info for a member of the group; a non-member target is 40004."""
    membership_require(group_id=group_id, user_id=user_id)
    member = (
        GroupMember.objects.select_related("user")
        .filter(group_id=group_id, user_id=target_user_id)
        .first()
    )
    if member is None:
        raise AppError(ErrorCode.NOT_FOUND, TARGET_NOT_A_MEMBER)
    return member


def manager_user_ids(group_id: int) -> list[int]:
    """The owner and admins of a group. One query."""
    return list(
        GroupMember.objects.filter(group_id=group_id, role__in=MANAGER_ROLES)
        .order_by("id")
        .values_list("user_id", flat=True)
    )


def pending_applications_for_manager(user: User) -> QuerySet[GroupApplication]:
    """Pending applications of normal groups I own or administer (not evaluated)."""
    return GroupApplication.objects.filter(
        status=GroupApplication.Status.PENDING,
        group__status=Group.Status.NORMAL,
        group__memberships__user=user,
        group__memberships__role__in=MANAGER_ROLES,
    )


def group_applications_unread_count(*, user: User) -> int:
    """Pending applications that arrived or were renewed after I last listed 6.4. One query.

    The filter on the membership and the comparison with its ``applications_seen_seq`` use the
    same join row (one ``filter`` call), so each application is compared with my own marker.
    """
    return GroupApplication.objects.filter(
        status=GroupApplication.Status.PENDING,
        group__status=Group.Status.NORMAL,
        group__memberships__user=user,
        group__memberships__role__in=MANAGER_ROLES,
        arrival_seq__gt=F("group__memberships__applications_seen_seq"),
    ).count()
