"""Reads about friends, blocks and friend requests; also what the chat and presence work needs."""

from collections.abc import Iterable
from typing import TYPE_CHECKING, TypedDict

from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet

from social.models import FriendRequest, Friendship

if TYPE_CHECKING:  # a development requirement
    from django_stubs_ext import WithAnnotations


class BlockedMe(TypedDict):
    """What ``friendship_list`` adds to each row."""

    blocked_me: bool


def are_friends(user_id: int, other_id: int) -> bool:
    """Whether the friendship exists (whatever either side's block says)."""
    return Friendship.objects.filter(user_id=user_id, friend_id=other_id, is_friend=True).exists()


def has_blocked(blocker_id: int, blocked_id: int) -> bool:
    """Whether ``blocker_id`` has blocked ``blocked_id`` (who may then not message or ask them)."""
    return Friendship.objects.filter(
        user_id=blocker_id, friend_id=blocked_id, status=Friendship.Status.BLOCKED
    ).exists()


_FRIENDSHIP = Friendship._meta.db_table
_USER = Friendship._meta.get_field("user").related_model._meta.db_table
# Written out once rather than built with the ORM: it runs for every private message, and this
# way no call compiles its two EXISTS subqueries again.
_PEER_RELATION = (
    f"SELECT EXISTS (SELECT 1 FROM {_FRIENDSHIP} WHERE user_id = %s AND friend_id = %s "
    "AND is_friend = %s), "
    f"EXISTS (SELECT 1 FROM {_FRIENDSHIP} WHERE user_id = %s AND friend_id = %s "
    "AND status = %s) "
    f"FROM {_USER} WHERE id = %s"
)


def peer_relation(user_id: int, peer_id: int) -> tuple[bool, bool] | None:
    """``(are_friends(user, peer), has_blocked(peer, user))`` in one query; None when the peer
    does not exist."""
    params = [user_id, peer_id, True, peer_id, user_id, Friendship.Status.BLOCKED, peer_id]
    with connection.cursor() as cursor:
        cursor.execute(_PEER_RELATION, params)
        row = cursor.fetchone()
    return (bool(row[0]), bool(row[1])) if row else None


def friend_ids(user_id: int) -> list[int]:
    """Every user ``user_id`` is friends with, blocked or not."""
    return list(
        Friendship.objects.filter(user_id=user_id, is_friend=True).values_list(
            "friend_id", flat=True
        )
    )


def _friend_has_blocked(user_id: int) -> Exists:
    """On a row ``user_id -> friend``: whether that friend has blocked ``user_id``."""
    return Exists(
        Friendship.objects.filter(
            user_id=OuterRef("friend_id"), friend_id=user_id, status=Friendship.Status.BLOCKED
        )
    )


def presence_audience_ids(user_id: int) -> list[int]:
    """Friends who see ``user_id``'s presence and whose presence they see (CONTRACT 12): every
    friend unless one of the two has blocked the other. One query. The relation is symmetric,
    as friendship is: A is in B's audience exactly when B is in A's."""
    return list(
        Friendship.objects.filter(user_id=user_id, is_friend=True, status=Friendship.Status.NORMAL)
        .exclude(_friend_has_blocked(user_id))
        .values_list("friend_id", flat=True)
    )


def remarks_for(user_id: int, friend_ids: Iterable[int]) -> dict[int, str]:
    """``user_id``'s non-empty remarks for those of ``friend_ids`` who are friends, in one query."""
    ids = set(friend_ids)
    if not ids:
        return {}
    rows = Friendship.objects.filter(user_id=user_id, friend_id__in=ids, is_friend=True).exclude(
        remark=""
    )
    return dict(rows.values_list("friend_id", "remark"))


def friendship_list(*, user_id: int) -> "QuerySet[WithAnnotations[Friendship, BlockedMe]]":
    """4.3: my friends I have not blocked, with their users, oldest friendship first; each
    row's ``blocked_me`` says whether that friend has blocked me (their presence is hidden from
    me, as in ``presence_audience_ids``)."""
    return (
        Friendship.objects.filter(user_id=user_id, status=Friendship.Status.NORMAL)
        .annotate(blocked_me=_friend_has_blocked(user_id))
        .select_related("friend")
        .order_by("id")
    )


def blocked_list(*, user_id: int) -> QuerySet[Friendship]:
    """4.6: everyone I have blocked (friends or not), most recently blocked first."""
    return Friendship.objects.filter(user_id=user_id, status=Friendship.Status.BLOCKED).order_by(
        "-updated_at", "-id"
    )


def friend_request_inbox(*, user_id: int) -> QuerySet[FriendRequest]:
    """6.1: requests sent to me, in any state, newest first."""
    return (
        FriendRequest.objects.filter(to_user_id=user_id)
        .select_related("from_user", "to_user")
        .order_by("-id")
    )


def friend_request_unread_count(*, user_id: int) -> int:
    """6.2: pending requests to me that I have not listed since they arrived or were renewed."""
    return FriendRequest.objects.filter(
        to_user_id=user_id, status=FriendRequest.Status.PENDING, is_read=False
    ).count()
