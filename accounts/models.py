from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower


class User(AbstractUser):
    """An account. ``status`` 2 (banned) refuses login and every token (CONTRACT 2, 3)."""

    class Status(models.IntegerChoices):
        ACTIVE = 1, "active"
        BANNED = 2, "banned"

    nickname = models.CharField(max_length=50, blank=True)
    avatar = models.URLField(max_length=500, blank=True)
    status = models.PositiveSmallIntegerField(choices=Status.choices, default=Status.ACTIVE)
    # Bumped on password change and ban; tokens carry the version they were issued under.
    token_version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("username"), name="accounts_user_username_ci_unique"),
            models.UniqueConstraint(
                Lower("email"),
                condition=~models.Q(email=""),
                name="accounts_user_email_ci_unique",
            ),
        ]

    @property
    def is_banned(self) -> bool:
        return self.status == self.Status.BANNED

    def __str__(self) -> str:
        return self.username
