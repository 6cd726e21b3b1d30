"""Account writes: registration, login, tokens, profile, password, ban (CONTRACT 3)."""

from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from accounts.tokens import TOKEN_VERSION_CLAIM, token_pair_for_user
from imserver.api.errors import AppError, ErrorCode, bad_request
from imserver.api.throttling import (
    login_failures_by_ip,
    login_failures_by_username,
    registrations_by_ip,
)
from imserver.realtime.publish import revoke_sessions_on_commit

USERNAME_TAKEN = _("Username already exists")
EMAIL_TAKEN = _("Email already in use")


def _ensure_email_free(email: str, *, except_user_id: int | None = None) -> None:
    taken = User.objects.filter(email__iexact=email).exclude(pk=except_user_id).exists()
    if taken:
        raise AppError(ErrorCode.CONFLICT, EMAIL_TAKEN)


@transaction.atomic
def user_register(
    *,
    username: str,
    password: str,
    email: str,
    nickname: str = "",
    avatar: str = "",
    ip: str | None = None,
) -> User:
    """Create an account; ``ip`` (the client's address) counts against the registration limit."""
    if ip is not None:
        registrations_by_ip.hit(ip)
    if User.objects.filter(username__iexact=username).exists():
        raise AppError(ErrorCode.CONFLICT, USERNAME_TAKEN)
    _ensure_email_free(email)
    user = User(
        username=username,
        email=email,
        nickname=nickname or username,
        avatar=avatar,
    )
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        # A concurrent registration won the race for the same username or email.
        taken = USERNAME_TAKEN if "username" in str(exc).lower() else EMAIL_TAKEN
        raise AppError(ErrorCode.CONFLICT, taken) from exc
    return user


def user_login(*, username: str, password: str, ip: str) -> dict[str, str]:
    """A token pair for valid credentials; failures are counted per IP and per username."""
    username_key = username.lower()
    if login_failures_by_ip.is_blocked(ip) or login_failures_by_username.is_blocked(username_key):
        raise AppError(
            ErrorCode.RATE_LIMITED,
            _("Too many failed logins, please try again later"),
            retry_after=login_failures_by_ip.retry_after(),  # both limits share one window
        )

    user = User.objects.filter(Q(username__iexact=username) | Q(email__iexact=username)).first()
    if user is None:
        make_password(password)  # spend the same time as a real check
    if user is None or not user.check_password(password):
        login_failures_by_ip.record_failure(ip)
        login_failures_by_username.record_failure(username_key)
        raise AppError(ErrorCode.UNAUTHORIZED, _("Wrong username or password"))
    if user.is_banned or not user.is_active:
        raise AppError(ErrorCode.FORBIDDEN, _("This account has been banned"))
    login_failures_by_username.reset(username_key)
    return token_pair_for_user(user)


def _current_user_for_refresh(refresh: RefreshToken) -> User:
    user = User.objects.filter(pk=refresh.get("user_id")).first()
    if (
        user is None
        or user.is_banned
        or not user.is_active
        or refresh.get(TOKEN_VERSION_CLAIM) != user.token_version
    ):
        raise AppError(ErrorCode.UNAUTHORIZED, _("Token has been revoked"))
    return user


def _valid_refresh_token(raw: str) -> RefreshToken:
    try:
        return RefreshToken(raw)
    except TokenError as exc:
        raise AppError(ErrorCode.UNAUTHORIZED, _("Invalid or expired refresh token")) from exc


@transaction.atomic
def token_refresh(*, refresh_token: str) -> dict[str, str]:
    """Rotate: blacklist the used refresh token and return a new pair.

    Two concurrent refreshes with the same token both pass the blacklist check, but only one
    creates the blacklist row; the other is refused as a reuse.
    """
    refresh = _valid_refresh_token(refresh_token)
    user = _current_user_for_refresh(refresh)
    _, newly_blacklisted = refresh.blacklist()
    if not newly_blacklisted:
        raise AppError(ErrorCode.UNAUTHORIZED, _("Invalid or expired refresh token"))
    return token_pair_for_user(user)


@transaction.atomic
def token_logout(*, refresh_token: str, all_devices: bool = False) -> None:
    """Blacklist the refresh token. With ``all_devices``, every token of its user issued so far
    stops working too (access tokens included) and the user's sockets close (4001)."""
    refresh = _valid_refresh_token(refresh_token)
    if all_devices:
        revoke_all_tokens(_current_user_for_refresh(refresh))
    refresh.blacklist()


@transaction.atomic
def user_update_info(
    *,
    user: User,
    nickname: str | None = None,
    email: str | None = None,
    avatar: str | None = None,
) -> User:
    if email is not None and email.lower() != user.email.lower():
        _ensure_email_free(email, except_user_id=user.pk)
        user.email = email
    if nickname is not None:
        user.nickname = nickname or user.username
    if avatar is not None:
        user.avatar = avatar
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        raise AppError(ErrorCode.CONFLICT, EMAIL_TAKEN) from exc
    return user


def revoke_all_tokens(user: User) -> None:
    """Every token issued before this call stops working (access and refresh alike), and the
    user's open sockets are closed once the change commits."""
    User.objects.filter(pk=user.pk).update(token_version=F("token_version") + 1)
    user.refresh_from_db(fields=["token_version"])
    revoke_sessions_on_commit(user.pk, user.token_version)


@transaction.atomic
def user_change_password(*, user: User, old_password: str, new_password: str) -> dict[str, str]:
    """Change the password, revoke every older token, and return a fresh pair for this client."""
    if not user.check_password(old_password):
        raise bad_request(_("old_password is wrong"))
    if old_password == new_password:
        raise bad_request(_("new_password must differ from old_password"))
    user.set_password(new_password)
    user.save(update_fields=["password", "updated_at"])
    revoke_all_tokens(user)
    return token_pair_for_user(user)


@transaction.atomic
def user_set_banned(*, user: User, banned: bool) -> User:
    """Ban or unban; either way every outstanding token of the user is revoked."""
    user.status = User.Status.BANNED if banned else User.Status.ACTIVE
    user.save(update_fields=["status", "updated_at"])
    revoke_all_tokens(user)
    return user
