"""Friendships, blocks and friend requests (CONTRACT 4).

A friendship is two rows, one per direction (``user`` -> ``friend``). Each row also carries the
owner's block of the other user, so one row answers both "are we friends" and "have I blocked
them":

- ``is_friend`` says whether the friendship exists. It is always equal on the two rows of a pair
  (the services keep it so, under a lock on both users).
- ``status`` is 1 (normal) or 2 (blocked by ``user``). Blocking someone who is not a friend
  creates a row with ``is_friend`` false and ``status`` 2; unblocking deletes that row again, or
  sets a friend's row back to 1. The friend list shows rows with status 1, the blocked list rows
  with status 2.
"""

from django.conf import settings
from django.db import models


class Friendship(models.Model):
    class Status(models.IntegerChoices):
        NORMAL = 1, "normal"
        BLOCKED = 2, "blocked"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="friendships"
    )
    friend = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.PositiveSmallIntegerField(choices=Status.choices, default=Status.NORMAL)
    is_friend = models.BooleanField(default=True)
    remark = models.CharField(max_length=50, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "friend"], name="social_friendship_unique_pair"
            ),
            models.CheckConstraint(
                condition=~models.Q(user=models.F("friend")), name="social_friendship_not_self"
            ),
            # A row that is neither a friendship nor a block has no reason to exist.
            models.CheckConstraint(
                condition=models.Q(is_friend=True) | models.Q(status=2),
                name="social_friendship_friend_or_blocked",
            ),
        ]
        indexes = [models.Index(fields=["user", "status"], name="social_friendship_user_status")]

    def __str__(self) -> str:
        return f"{self.user_id} -> {self.friend_id} ({self.get_status_display()})"

    @property
    def is_blocked(self) -> bool:
        return self.status == self.Status.BLOCKED


class FriendRequest(models.Model):
    class Status(models.IntegerChoices):
        PENDING = 1, "pending"
        ACCEPTED = 2, "accepted"
        REJECTED = 3, "rejected"

    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sent_friend_requests"
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="received_friend_requests"
    )
    message = models.CharField(max_length=255, blank=True)
    status = models.PositiveSmallIntegerField(choices=Status.choices, default=Status.PENDING)
    # The recipient's optional reason when accepting or rejecting (4.2 ``message``).
    handle_message = models.CharField(max_length=255, blank=True)
    # False until the recipient lists it (6.1); a renewed pending request is unread again.
    is_read = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["from_user", "to_user"],
                condition=models.Q(status=1),
                name="social_friendrequest_one_pending_per_direction",
            ),
            models.CheckConstraint(
                condition=~models.Q(from_user=models.F("to_user")),
                name="social_friendrequest_not_self",
            ),
        ]
        indexes = [
            models.Index(fields=["to_user", "-id"], name="social_friendrequest_inbox"),
            models.Index(
                fields=["to_user"],
                condition=models.Q(status=1, is_read=False),
                name="social_friendrequest_unread",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.from_user_id} -> {self.to_user_id} ({self.get_status_display()})"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING
