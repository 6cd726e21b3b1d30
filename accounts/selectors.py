from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from imserver.api.errors import AppError, ErrorCode


def user_get(*, user_id: int) -> User:
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise AppError(ErrorCode.NOT_FOUND, _("User not found"))
    return user


# The columns by name, not ``*``: a prepared ``SELECT *`` (DB_PREPARED_STATEMENTS) fails once
# a migration adds a column while the server runs.
_USER_COLUMNS = ", ".join(f'"{field.column}"' for field in User._meta.concrete_fields)
_USER_BY_ID = f"SELECT {_USER_COLUMNS} FROM {User._meta.db_table} WHERE id = %s"


def user_by_id(user_id: int) -> User | None:
    """The user, or None. Every authenticated request asks this, so it is one raw query: no
    call builds and compiles an ORM query."""
    return next(iter(User.objects.raw(_USER_BY_ID, [user_id])), None)


def user_search(*, keyword: str) -> QuerySet[User]:
    """Active users whose username or nickname contains ``keyword``, newest first."""
    return User.objects.filter(
        Q(username__icontains=keyword) | Q(nickname__icontains=keyword),
        status=User.Status.ACTIVE,
        is_active=True,
    ).order_by("-id")


def session_states(user_ids: list[int]) -> dict[int, tuple[int, bool]]:
    """For each of ``user_ids`` that exists: its token version, and whether it may hold a
    session at all (active and not banned). Users missing from the answer were deleted."""
    states: dict[int, tuple[int, bool]] = {}
    for start in range(0, len(user_ids), 500):
        rows = User.objects.filter(pk__in=user_ids[start : start + 500]).values_list(
            "pk", "token_version", "status", "is_active"
        )
        for pk, version, status, is_active in rows:
            states[pk] = (version, is_active and status != User.Status.BANNED)
    return states
