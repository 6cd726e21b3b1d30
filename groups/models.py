from django.conf import settings
from django.db import models


def default_max_member_count() -> int:
    return settings.IM_MAX_MEMBER_COUNT


class Group(models.Model):
    """A chat group. ``member_count`` is kept equal to the number of members (CONTRACT 5)."""

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
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "chat group"
        verbose_name_plural = "chat groups"

    def __str__(self) -> str:
        return f"{self.name} (#{self.pk})"
