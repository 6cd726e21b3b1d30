from typing import cast

from django.http import HttpRequest
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token

from accounts.models import User
from accounts.selectors import user_by_id
from accounts.tokens import TOKEN_VERSION_CLAIM


class AuthenticatedRequest(Request):
    """The request a view behind ``IsAuthenticated`` (the default permission) is given: its
    ``user`` is an active ``User``. For type checking only: DRF builds a plain ``Request``, and a
    view that annotates ``request`` with this class says that the permission check has passed."""

    user: User


def admin_user(request: HttpRequest) -> User:
    """The staff member behind an admin request: the admin site lets in only active staff users
    who are not banned (``IMAdminSite.has_permission``), so the request's user is a ``User``."""
    return cast(User, request.user)


class TokenVersionJWTAuthentication(JWTAuthentication):
    """simplejwt's validation, plus: the token's version is current and the user not banned."""

    # simplejwt's return type is a type variable no argument binds: no concrete class overrides it.
    def get_user(self, validated_token: Token) -> User:  # type: ignore[override]
        """simplejwt's ``get_user`` (same errors), reading the user with ``user_by_id``; the
        password-hash revocation check is off in our settings, token versions replace it."""
        try:
            user_id = int(validated_token[api_settings.USER_ID_CLAIM])
        except (KeyError, TypeError, ValueError) as error:
            message = _("Token contained no recognizable user identification")
            raise InvalidToken(message) from error  # type: ignore[arg-type]  # see _failed
        user = user_by_id(user_id)
        if user is None:
            raise _failed(_("User not found"), "user_not_found")
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise _failed(_("User is inactive"), "user_inactive")
        if validated_token.get(TOKEN_VERSION_CLAIM) != user.token_version or user.is_banned:
            raise _failed(_("Token has been revoked"), "token_revoked")
        return user


def _failed(message: str | Promise, code: str) -> AuthenticationFailed:
    # The messages are lazy, as simplejwt's own are (DRF renders them in the request's language);
    # simplejwt annotates ``detail`` as ``str`` only.
    return AuthenticationFailed(message, code=code)  # type: ignore[arg-type]


def validated_access_token(raw_token: str) -> Token:
    """The access token's signature, type and expiry checked, without the database.

    Raises ``AuthenticationFailed`` (or its subclass ``InvalidToken``) exactly as REST does.
    """
    return TokenVersionJWTAuthentication().get_validated_token(raw_token.encode())


def token_user_id(token: Token) -> int | None:
    try:
        return int(token[api_settings.USER_ID_CLAIM])
    except (KeyError, TypeError, ValueError):
        return None


def user_for_validated_token(token: Token) -> User:
    """The active user a validated token belongs to; ``AuthenticationFailed`` when the token
    has been revoked (its version is old) or the user banned, deactivated or deleted."""
    return TokenVersionJWTAuthentication().get_user(token)
