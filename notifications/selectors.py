"""Reads for the group half of section 6."""

from django.db.models import F, QuerySet

from accounts.models import User
from groups.models import Group, GroupApplication, GroupMember

MANAGER_ROLES = (GroupMember.Role.ADMIN, GroupMember.Role.OWNER)


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
