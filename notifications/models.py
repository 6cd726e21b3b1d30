from django.conf import settings
from django.db import models


class GroupNotification(models.Model):
    """One group event as seen by one user (CONTRACT 2 types, 6.3)."""

    class Type(models.IntegerChoices):
        APPLICATION_RECEIVED = 1, "join application received"
        APPLICATION_APPROVED = 2, "application approved"
        APPLICATION_REJECTED = 3, "application rejected"
        INVITED = 4, "invited into group"
        MEMBER_LEFT = 5, "member left"
        KICKED = 6, "kicked"
        ROLE_CHANGED = 7, "role changed"
        OWNERSHIP_TRANSFERRED = 8, "ownership transferred to you"
        MUTE_CHANGED = 9, "muted/unmuted"
        GROUP_DISMISSED = 10, "group dismissed"
        GROUP_UPDATED = 11, "group info updated"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="group_notifications"
    )
    type = models.PositiveSmallIntegerField(choices=Type.choices)
    group = models.ForeignKey("groups.Group", on_delete=models.CASCADE, related_name="+")
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    message = models.CharField(max_length=500)
    is_read = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["recipient", "-id"], name="notif_group_recipient_idx"),
        ]

    def __str__(self) -> str:
        return f"group notification #{self.pk} (type {self.type}) to user {self.recipient_id}"
