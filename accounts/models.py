from collections.abc import Collection, Iterable
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models, router, transaction
from django.db.models.functions import Lower

# The fields whose change revokes every token of the user (see ``User.save``).
_REVOKING_FIELDS = ("password", "is_active", "status")


class User(AbstractUser):
    """An account. ``status`` 2 (banned) refuses login and every token (CONTRACT 2, 3)."""

    class Status(models.IntegerChoices):
        ACTIVE = 1, "active"
        BANNED = 2, "banned"

    nickname = models.CharField(max_length=50, blank=True)
    avatar = models.URLField(max_length=500, blank=True)
    status = models.PositiveSmallIntegerField(choices=Status.choices, default=Status.ACTIVE)
    # Bumped whenever the password, ``is_active`` or ``status`` changes and on "log out
    # everywhere"; tokens carry the version they were issued under.
    token_version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # The revoking fields' values as last read from or written to the database (absent: not
    # loaded), and whether ``check_password`` is upgrading the hash of the same password.
    _stored: dict[str, Any]
    _rehashing = False

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

    @classmethod
    def from_db(
        cls,
        db: str | None,
        field_names: Collection[str],
        values: Collection[Any],
        **kwargs: Any,
    ) -> "User":
        user = super().from_db(db, field_names, values, **kwargs)
        user._remember_stored(_REVOKING_FIELDS)
        return user

    def _remember_stored(self, fields: Iterable[str]) -> None:
        # ``__dict__``, not ``getattr``: reading a deferred field would query the database.
        stored = self.__dict__.setdefault("_stored", {})
        for name in fields:
            if name in _REVOKING_FIELDS and name in self.__dict__:
                stored[name] = self.__dict__[name]

    def refresh_from_db(
        self,
        using: str | None = None,
        fields: Iterable[str] | None = None,
        from_queryset: Any = None,
    ) -> None:
        """Django's; the reloaded values are the stored ones ``save`` compares with."""
        fields = None if fields is None else list(fields)
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        self._remember_stored(_REVOKING_FIELDS if fields is None else fields)

    def _revoking_change(self, update_fields: Iterable[str] | None) -> bool:
        """Whether this save changes the password, ``is_active`` or ``status`` of a stored user.

        A password counts as changed after ``set_password`` (whose raw password Django keeps
        in ``_password`` until the save) or ``set_unusable_password``, or any other new hash,
        except the upgrade ``check_password`` makes of the same password to a newer hasher.
        """
        if self._state.adding:
            return False  # a new user has no tokens yet
        saved = set(_REVOKING_FIELDS if update_fields is None else update_fields)
        stored = self.__dict__.get("_stored", {})
        for name in _REVOKING_FIELDS:
            if name not in saved or name not in self.__dict__:
                continue
            if name == "password" and self._rehashing:
                continue
            # Django's ``AbstractBaseUser`` attribute, missing from its stubs.
            if name == "password" and self._password is not None:  # type: ignore[attr-defined]
                return True
            if name in stored and stored[name] != self.__dict__[name]:
                return True
        return False

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save; a changed password, ``is_active`` or ``status`` also revokes every token of
        the user and closes their sockets, whatever made the change (the API, the admin's
        forms and actions, ``manage.py changepassword``, a shell), in the same transaction.

        ``QuerySet.update`` bypasses this; the sockets' periodic re-check (at most 30 s) and
        the per-request check of ``is_active`` and ``status`` still stop such a user.
        """
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            update_fields = list(update_fields)
            kwargs["update_fields"] = update_fields
        if not self._revoking_change(update_fields):
            super().save(*args, **kwargs)
        else:
            from accounts.services import revoke_all_tokens  # services import this module

            using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
            with transaction.atomic(using=using):
                super().save(*args, **kwargs)
                revoke_all_tokens(self)
        self._remember_stored(_REVOKING_FIELDS if update_fields is None else update_fields)

    def check_password(self, raw_password: str | None) -> bool:
        """Django's check; a hash it upgrades (same password, newer hasher) revokes nothing."""
        self._rehashing = True
        try:
            return super().check_password(raw_password)
        finally:
            self._rehashing = False

    async def acheck_password(self, raw_password: str | None) -> bool:
        self._rehashing = True
        try:
            return await super().acheck_password(raw_password)
        finally:
            self._rehashing = False


def display_name(user: User | None) -> str:
    """How a user is named to others: the nickname, or the username when it is empty; "" for no
    user (an operator or target whose account is gone)."""
    return (user.nickname or user.username) if user is not None else ""
