"""Reads about friends, blocks and friend requests; also what the chat and presence work needs."""

from collections.abc import Iterable

from django.db.models import Exists, QuerySet

from social.models import FriendRequest, Friendship


def are_friends(user_id: int, other_id: int) -> bool:
    """Whether the friendship exists (whatever either side's block says)."""
    return Friendship.objects.filter(user_id=user_id, friend_id=other_id, is_friend=True).exists()


def has_blocked(blocker_id: int, blocked_id: int) -> bool:
    """Whether ``blocker_id`` has blocked ``blocked_id`` (who may then not message or ask them)."""
    return Friendship.objects.filter(
        user_id=blocker_id, friend_id=blocked_id, status=Friendship.Status.BLOCKED
    ).exists()


def friendship_exists(user_id: int, other_id: int) -> Exists:
    """``are_friends`` as an expression, to ask it inside another query."""
    return Exists(Friendship.objects.filter(user_id=user_id, friend_id=other_id, is_friend=True))


def block_exists(blocker_id: int, blocked_id: int) -> Exists:
    """``has_blocked`` as an expression, to ask it inside another query."""
    return Exists(
        Friendship.objects.filter(
            user_id=blocker_id, friend_id=blocked_id, status=Friendship.Status.BLOCKED
        )
    )


def friend_ids(user_id: int) -> list[int]:
    """Every user ``user_id`` is friends with, blocked or not."""
    return list(
        Friendship.objects.filter(user_id=user_id, is_friend=True).values_list(
            "friend_id", flat=True
        )
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


def friendship_list(*, user_id: int) -> QuerySet[Friendship]:
    """4.3: my friends I have not blocked, with their users, oldest friendship first."""
    return (
        Friendship.objects.filter(user_id=user_id, status=Friendship.Status.NORMAL)
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
