from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token

from accounts.models import User
from accounts.selectors import user_by_id
from accounts.tokens import TOKEN_VERSION_CLAIM


class TokenVersionJWTAuthentication(JWTAuthentication):
    """simplejwt's validation, plus: the token's version is current and the user not banned."""

    def get_user(self, validated_token: Token) -> User:
        """simplejwt's ``get_user`` (same errors), reading the user with ``user_by_id``; the
        password-hash revocation check is off in our settings, token versions replace it."""
        try:
            user_id = int(validated_token[api_settings.USER_ID_CLAIM])
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidToken(_("Token contained no recognizable user identification")) from error
        user = user_by_id(user_id)
        if user is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        if validated_token.get(TOKEN_VERSION_CLAIM) != user.token_version or user.is_banned:
            raise AuthenticationFailed(_("Token has been revoked"), code="token_revoked")
        return user


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
