from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.tokens import Token

from accounts.models import User
from accounts.tokens import TOKEN_VERSION_CLAIM


class TokenVersionJWTAuthentication(JWTAuthentication):
    """simplejwt's validation, plus: the token's version is current and the user not banned."""

    def get_user(self, validated_token: Token) -> User:
        user = super().get_user(validated_token)
        if validated_token.get(TOKEN_VERSION_CLAIM) != user.token_version or user.is_banned:
            raise AuthenticationFailed(_("Token has been revoked"), code="token_revoked")
        return user


def user_for_access_token(raw_token: str) -> User:
    """The active user an access token belongs to (the WebSocket handshake uses this).

    Raises ``AuthenticationFailed`` (or its subclass ``InvalidToken``) for a missing, malformed,
    expired or revoked token, exactly as the REST authentication does.
    """
    authentication = TokenVersionJWTAuthentication()
    validated = authentication.get_validated_token(raw_token.encode())
    return authentication.get_user(validated)
