"""Friend writes and their pushes (CONTRACT 4).

Every write that concerns two users first locks both user rows, in id order
(:func:`_lock_pair`). That serialises everything that happens between the same two people: two
users sending each other requests at the same moment, a double accept, a block racing an accept.
The second writer waits, then reads what the first committed. The unique constraints on
``Friendship`` and ``FriendRequest`` stay as the last line of defence.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from imserver.api.errors import AppError, ErrorCode, bad_request, invalid_parameter_message
from imserver.api.throttling import friend_requests_by_user
from imserver.publish import publish_on_commit
from social import selectors
from social.models import FriendRequest, Friendship
from social.presenters import friend_request_data

FRIEND_REQUEST_EVENT = "friend_request"
FRIEND_REQUEST_HANDLED_EVENT = "friend_request_handled"

USER_NOT_FOUND = _("User not found")
NOT_FRIENDS = _("This user is not your friend")


def _lock_pair(user_id: int, other_id: int) -> dict[int, User]:
    """Lock both users' rows in id order; returns those that exist, by id."""
    users = User.objects.select_for_update().filter(pk__in={user_id, other_id}).order_by("pk")
    return {user.pk: user for user in users}


def _lock_pair_or_404(user: User, other_id: int, *, field: str) -> User:
    """Lock ``user`` and ``other_id`` (who must not be ``user``) and return the other user."""
    if other_id == user.pk:
        raise AppError(
            ErrorCode.BAD_REQUEST, invalid_parameter_message(_("must not be yourself"), field)
        )
    other = _lock_pair(user.pk, other_id).get(other_id)
    if other is None:
        raise AppError(ErrorCode.NOT_FOUND, USER_NOT_FOUND)
    return other


def _my_row(user_id: int, other_id: int) -> Friendship | None:
    return Friendship.objects.filter(user_id=user_id, friend_id=other_id).first()


def _push_request(friend_request: FriendRequest, *, to_user_id: int, event: str) -> None:
    publish_on_commit([to_user_id], event, friend_request_data(friend_request))


# --- Friendship rows ------------------------------------------------------------------------


def _friendship_create(user_id: int, other_id: int) -> None:
    """Make the two users friends; either side's existing block is kept. Pair must be locked."""
    for owner_id, friend_id in ((user_id, other_id), (other_id, user_id)):
        row = _my_row(owner_id, friend_id)
        if row is None:
            Friendship.objects.create(user_id=owner_id, friend_id=friend_id)
        elif not row.is_friend:
            row.is_friend = True
            row.save(update_fields=["is_friend", "updated_at"])


@transaction.atomic
def friendship_delete(*, user: User, friend_id: int) -> None:
    """4.4: end the friendship in both directions. A block either side holds stays in force."""
    other = _lock_pair_or_404(user, friend_id, field="friend_id")
    mine = _my_row(user.pk, other.pk)
    if mine is None or not mine.is_friend:
        raise AppError(ErrorCode.NOT_FOUND, NOT_FRIENDS)
    rows = Friendship.objects.filter(
        user_id__in=[user.pk, other.pk], friend_id__in=[user.pk, other.pk]
    )
    rows.filter(status=Friendship.Status.NORMAL).delete()
    for row in rows.filter(status=Friendship.Status.BLOCKED):
        row.is_friend = False
        row.save(update_fields=["is_friend", "updated_at"])


@transaction.atomic
def friend_block(*, user: User, friend_id: int) -> Friendship:
    """4.5: set my row to blocked, creating it (not as a friendship) when we are not friends."""
    other = _lock_pair_or_404(user, friend_id, field="friend_id")
    row = _my_row(user.pk, other.pk)
    if row is None:
        return Friendship.objects.create(
            user=user, friend=other, status=Friendship.Status.BLOCKED, is_friend=False
        )
    if row.is_blocked:
        raise AppError(ErrorCode.CONFLICT, _("You have already blocked this user"))
    row.status = Friendship.Status.BLOCKED
    row.save(update_fields=["status", "updated_at"])
    return row


@transaction.atomic
def friend_unblock(*, user: User, friend_id: int) -> None:
    """Undo a block: a friend is back in my list; a block of a non-friend simply goes away."""
    other = _lock_pair_or_404(user, friend_id, field="friend_id")
    row = _my_row(user.pk, other.pk)
    if row is None or not row.is_blocked:
        raise AppError(ErrorCode.NOT_FOUND, _("You have not blocked this user"))
    if row.is_friend:
        row.status = Friendship.Status.NORMAL
        row.save(update_fields=["status", "updated_at"])
    else:
        row.delete()


def friend_set_remark(*, user: User, user_id: int, remark: str) -> None:
    """4.7: my remark for a friend (blocked or not), in one statement (no read-modify-write)."""
    updated = Friendship.objects.filter(user_id=user.pk, friend_id=user_id, is_friend=True).update(
        remark=remark, updated_at=timezone.now()
    )
    if not updated:
        raise AppError(ErrorCode.NOT_FOUND, NOT_FRIENDS)


# --- Friend requests ------------------------------------------------------------------------


@transaction.atomic
def friend_request_send(*, from_user: User, to_user_id: int, message: str = "") -> FriendRequest:
    """4.1. Returns the request that now stands for this wish (renewed, new, or accepted)."""
    friend_requests_by_user.hit(from_user.pk)
    to_user = _lock_pair_or_404(from_user, to_user_id, field="to_user_id")
    if selectors.are_friends(from_user.pk, to_user.pk):
        raise AppError(ErrorCode.CONFLICT, _("You are already friends"))
    if selectors.has_blocked(to_user.pk, from_user.pk):
        raise AppError(ErrorCode.FORBIDDEN, _("This user has blocked you"))
    if selectors.has_blocked(from_user.pk, to_user.pk):
        raise bad_request(_("you have blocked this user; unblock them first"))

    pending = FriendRequest.objects.filter(status=FriendRequest.Status.PENDING)
    opposite = pending.filter(from_user=to_user, to_user=from_user).first()
    if opposite is not None:
        # They asked first: this request is their answer.
        opposite.from_user, opposite.to_user = to_user, from_user
        return _friend_request_resolve(opposite, accept=True, handle_message=message)

    friend_request = pending.filter(from_user=from_user, to_user=to_user).first()
    if friend_request is None:
        friend_request = FriendRequest.objects.create(
            from_user=from_user, to_user=to_user, message=message
        )
    else:
        friend_request.message = message
        friend_request.is_read = False
        friend_request.save(update_fields=["message", "is_read", "updated_at"])
    _push_request(friend_request, to_user_id=to_user.pk, event=FRIEND_REQUEST_EVENT)
    return friend_request


@transaction.atomic
def friend_request_handle(
    *, user: User, request_id: int, action: int, message: str = ""
) -> FriendRequest:
    """4.2: the recipient accepts (2) or rejects (3) a pending request."""
    not_found = AppError(ErrorCode.NOT_FOUND, _("Friend request not found"))
    found = FriendRequest.objects.filter(pk=request_id, to_user=user).first()
    if found is None:
        raise not_found
    users = _lock_pair(found.from_user_id, found.to_user_id)
    # Re-read under the lock: a concurrent handle may have committed meanwhile.
    friend_request = FriendRequest.objects.get(pk=found.pk)
    if not friend_request.is_pending:
        raise AppError(ErrorCode.CONFLICT, _("This friend request has already been handled"))
    friend_request.from_user = users[friend_request.from_user_id]
    friend_request.to_user = users[friend_request.to_user_id]
    accept = action == FriendRequest.Status.ACCEPTED
    return _friend_request_resolve(friend_request, accept=accept, handle_message=message)


def _friend_request_resolve(
    friend_request: FriendRequest, *, accept: bool, handle_message: str
) -> FriendRequest:
    """Accept or reject a pending request whose pair is locked; the requester is told."""
    friend_request.status = (
        FriendRequest.Status.ACCEPTED if accept else FriendRequest.Status.REJECTED
    )
    friend_request.handle_message = handle_message
    friend_request.save(update_fields=["status", "handle_message", "updated_at"])
    if accept:
        _friendship_create(friend_request.from_user_id, friend_request.to_user_id)
    _push_request(
        friend_request, to_user_id=friend_request.from_user_id, event=FRIEND_REQUEST_HANDLED_EVENT
    )
    return friend_request


@transaction.atomic
def friend_request_inbox_read(
    *, user: User, offset: int, limit: int
) -> tuple[list[FriendRequest], int]:
    """6.1: one page of the requests sent to me, and their total; the page is now read.

    The page's rows are locked while they are marked, so a renewal committed meanwhile is not
    marked read without having been shown.
    """
    inbox = selectors.friend_request_inbox(user_id=user.pk)
    total = inbox.count()
    requests = list(inbox.select_for_update(of=("self",))[offset : offset + limit])
    unread_ids = [friend_request.pk for friend_request in requests if not friend_request.is_read]
    if unread_ids:
        FriendRequest.objects.filter(pk__in=unread_ids).update(is_read=True)
    return requests, total
