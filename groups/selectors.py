from django.db.models import Q, QuerySet

from groups.models import Group


def group_search(*, keyword: str) -> QuerySet[Group]:
    """Normal groups whose name contains ``keyword`` (case-insensitive), newest first."""
    return Group.objects.filter(Q(name__icontains=keyword), status=Group.Status.NORMAL).order_by(
        "-id"
    )
