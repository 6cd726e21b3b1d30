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
