"""JWT pairs that carry the user's ``token_version``, so one bump revokes every older token."""

from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User

TOKEN_VERSION_CLAIM = "tv"


def token_pair_for_user(user: User) -> dict[str, str]:
    refresh = RefreshToken.for_user(user)
    refresh[TOKEN_VERSION_CLAIM] = user.token_version
    return {"access_token": str(refresh.access_token), "refresh_token": str(refresh)}
