from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


def default_max_member_count() -> int:
    count: int = settings.IM_MAX_MEMBER_COUNT  # the stubs type our own settings as Any
    return count


class Group(models.Model):
    """A chat group. ``member_count`` is kept equal to the number of members (CONTRACT 5).

    Every membership change locks this row (``select_for_update``) first, which serialises
    them per group: the count, the capacity check and ``application_seq`` stay exact.
    """

    class Status(models.IntegerChoices):
        NORMAL = 1, "normal"
        DISMISSED = 2, "dismissed"

    name = models.CharField(max_length=50)
    description = models.CharField(max_length=500, blank=True)
    avatar = models.CharField(max_length=500, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_groups"
    )
    member_count = models.PositiveIntegerField(default=0)
    max_member_count = models.PositiveIntegerField(default=default_max_member_count)
    status = models.PositiveSmallIntegerField(choices=Status.choices, default=Status.NORMAL)
    # Bumped (under the row lock) each time a join application arrives or is renewed, so the
    # arrivals of one group commit in sequence order; 6.5 compares it with what admins saw.
    application_seq = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "chat group"
        verbose_name_plural = "chat groups"

    def __str__(self) -> str:
        return f"{self.name} (#{self.pk})"

    @property
    def is_dismissed(self) -> bool:
        return self.status == self.Status.DISMISSED


class GroupMember(models.Model):
    """One user's membership. Leaving deletes the row; rejoining creates a new one (new id and
    ``joined_at``), so chat can hide messages sent before the current membership began."""

    class Role(models.IntegerChoices):
        MEMBER = 0, "member"
        ADMIN = 1, "admin"
        OWNER = 2, "owner"

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="group_memberships"
    )
    role = models.PositiveSmallIntegerField(choices=Role.choices, default=Role.MEMBER)
    nickname = models.CharField(max_length=50, blank=True)  # in-group nickname, "" = none
    muted_until = models.DateTimeField(null=True, blank=True)
    joined_at = models.DateTimeField(default=timezone.now)  # microsecond precision
    updated_at = models.DateTimeField(auto_now=True)
    # The group's ``application_seq`` up to which this owner/admin has listed applications (6.4).
    applications_seen_seq = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "user"], name="groups_member_unique"),
        ]
        indexes = [models.Index(fields=["user", "group"], name="groups_member_user_idx")]

    def __str__(self) -> str:
        return f"user {self.user_id} in group {self.group_id} (role {self.role})"

    @property
    def is_manager(self) -> bool:
        """Owner or admin."""
        return self.role in MANAGER_ROLES

    def mute_remaining_seconds(self, now: datetime | None = None) -> int:
        """Whole seconds of mute left (rounded up); 0 when not muted."""
        if self.muted_until is None:
            return 0
        left = (self.muted_until - (now or timezone.now())).total_seconds()
        return max(0, int(-(-left // 1)))


# The roles that manage a group: mute, kick, handle applications, recall members' messages.
MANAGER_ROLES = (GroupMember.Role.ADMIN, GroupMember.Role.OWNER)


class GroupApplication(models.Model):
    """A request to join a group, handled by its owner or an admin (5.9, 5.16, 6.4)."""

    class Status(models.IntegerChoices):
        PENDING = 1, "pending"
        APPROVED = 2, "approved"
        REJECTED = 3, "rejected"

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="applications")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="group_applications"
    )
    reason = models.CharField(max_length=200, blank=True)
    status = models.PositiveSmallIntegerField(choices=Status.choices, default=Status.PENDING)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="handled_group_applications",
    )
    # Set when the application arrives and again when it is renewed (a repeated 5.9).
    arrived_at = models.DateTimeField(default=timezone.now)
    arrival_seq = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["group", "user"],
                condition=Q(status=1),
                name="groups_application_one_pending",
            ),
        ]
        indexes = [
            models.Index(fields=["group", "status", "arrival_seq"], name="groups_app_pending_idx"),
        ]

    def __str__(self) -> str:
        return f"application #{self.pk}: user {self.user_id} -> group {self.group_id}"
