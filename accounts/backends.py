"""Session authentication (the admin): Django's model backend, refusing banned users."""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser

from accounts.models import User


class AccountBackend(ModelBackend):
    """``ModelBackend`` whose ``user_can_authenticate`` is also false for a banned user.

    Django asks it both when a password is checked (``authenticate``: the admin login page
    answers as for a wrong password) and when a session's user is read on every request
    (``get_user``): so a staff member banned while logged in is logged out at their next
    request, and a ban needs no other change (``is_active``, ``is_staff``) to keep them out.
    """

    def user_can_authenticate(self, user: User | AnonymousUser | None) -> bool:
        return super().user_can_authenticate(user) and not getattr(user, "is_banned", False)
