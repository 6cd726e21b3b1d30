from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from imserver.api.errors import AppError, ErrorCode


def user_get(*, user_id: int) -> User:
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise AppError(ErrorCode.NOT_FOUND, _("User not found"))
    return user


def user_search(*, keyword: str) -> QuerySet[User]:
    """Active users whose username or nickname contains ``keyword``, newest first."""
    return User.objects.filter(
        Q(username__icontains=keyword) | Q(nickname__icontains=keyword),
        status=User.Status.ACTIVE,
        is_active=True,
    ).order_by("-id")
