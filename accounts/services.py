"""Account writes: registration, login, tokens, profile, password, ban (CONTRACT 3)."""

from typing import cast

from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from accounts.tokens import TOKEN_VERSION_CLAIM, token_pair_for_user
from imserver import metrics
from imserver.api.errors import AppError, ErrorCode, bad_request
from imserver.api.throttling import (
    login_failures_by_ip,
    login_failures_by_user,
    logins_by_ip,
    logins_by_user,
    refreshes_by_ip,
    refreshes_by_user,
    registrations_by_ip,
)
from imserver.publish import revoke_sessions_on_commit

USERNAME_TAKEN = _("Username already exists")
EMAIL_TAKEN = _("Email already in use")


def _ensure_email_free(email: str, *, except_user_id: int | None = None) -> None:
    users = User.objects.filter(email__iexact=email)
    if except_user_id is not None:
        users = users.exclude(pk=except_user_id)
    if users.exists():
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


def _failure_identity(user: User | None, typed_name: str) -> str:
    """The per-user failure counter's identity: the account whatever name or email was typed,
    else the typed name (any case), so guesses at a name nobody has are limited too."""
    return f"user:{user.pk}" if user is not None else f"name:{typed_name.lower()}"


def _too_many_failures() -> AppError:
    metrics.rate_limit_refused("login-failure")
    return AppError(
        ErrorCode.RATE_LIMITED,
        _("Too many failed logins, please try again later"),
        retry_after=login_failures_by_ip.retry_after(),  # both limits share one window
    )


def _password_matches(*, user: User | None, password: str, identity: str, ip: str | None) -> bool:
    """Check a password under the failed-login limits; a wrong one counts for both.

    Refused (42900) before any hashing when the address has reached its limit, or when the
    user has reached theirs and this address has failed recently too. A correct password from
    an address with no recent failures is checked and accepted even while the user's limit is
    reached: a stranger's wrong guesses can never lock the owner out, while each guessing
    address gets at most one guess per window once the user's limit is reached.

    ``ip`` None (a call from code, not from a request) counts for the user only.
    """
    ip_failures = login_failures_by_ip.failures(ip) if ip is not None else 0
    if login_failures_by_ip.blocks(ip_failures) or (
        ip_failures > 0 and login_failures_by_user.is_blocked(identity)
    ):
        raise _too_many_failures()
    if user is None:
        make_password(password)  # spend the same time as a real check
        matches = False
    else:
        matches = user.check_password(password)
    if not matches:
        if ip is not None:
            login_failures_by_ip.record_failure(ip)
        login_failures_by_user.record_failure(identity)
    return matches


def user_login(*, username: str, password: str, ip: str) -> dict[str, str]:
    """A token pair for valid credentials (CONTRACT 3, 12).

    Every attempt counts against the address's login rate before the password is hashed;
    failures count per address and per user (``_password_matches``); a success counts against
    the user's login rate, which only someone holding the password can spend.
    """
    logins_by_ip.hit(ip)
    user = User.objects.filter(Q(username__iexact=username) | Q(email__iexact=username)).first()
    identity = _failure_identity(user, username)
    if not _password_matches(user=user, password=password, identity=identity, ip=ip):
        raise AppError(ErrorCode.UNAUTHORIZED, _("Wrong username or password"))
    assert user is not None  # a password only matches an existing user's
    if user.is_banned or not user.is_active:
        raise AppError(ErrorCode.FORBIDDEN, _("This account has been banned"))
    logins_by_user.hit(user.pk)
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


class _RefreshTokenPerhapsReused(RefreshToken):
    """simplejwt's refresh token with every check (signature, expiry, type) but the blacklist:
    ``token_refresh`` reads the blacklist itself, to tell a reused token from a bad one."""

    def check_blacklist(self) -> None:
        return None


def _valid_refresh_token(
    raw: str, *, token_class: type[RefreshToken] = RefreshToken
) -> RefreshToken:
    try:
        # simplejwt annotates the encoded token as a ``Token``; it takes the string.
        return token_class(raw)  # type: ignore[arg-type]
    except TokenError as exc:
        raise AppError(ErrorCode.UNAUTHORIZED, _("Invalid or expired refresh token")) from exc


def token_refresh(*, refresh_token: str, ip: str) -> dict[str, str]:
    """Rotate: blacklist the used refresh token and return a new pair.

    Presenting a validly signed, unexpired refresh token that is already blacklisted (rotated
    or logged out) is a reuse: it was copied, and the thief or the owner refreshed first. The
    standard answer (refresh-token reuse detection) is to end the whole chain: every token of
    the user is revoked and their sockets close, so whoever holds the newer tokens issued from
    it must log in again with the password. A token of an older token version (already
    revoked) is refused without revoking again. Two concurrent refreshes with one token: only
    one creates the blacklist row, the other is a reuse. (The web client rotates one token at
    a time across its tabs, so it never reuses one.)

    Rate limited per address (every request) and per user (a validly signed token).
    """
    refreshes_by_ip.hit(ip)
    refresh = _valid_refresh_token(refresh_token, token_class=_RefreshTokenPerhapsReused)
    with transaction.atomic():
        user = _current_user_for_refresh(refresh)
        refreshes_by_user.hit(user.pk)
        # simplejwt annotates ``blacklist`` as returning the row; it returns get_or_create's pair.
        _row, newly_blacklisted = cast("tuple[BlacklistedToken, bool]", refresh.blacklist())
        if newly_blacklisted:
            return token_pair_for_user(user)
        revoke_all_tokens(user)
    # Raised after the revocation has committed: an exception inside would roll it back.
    raise AppError(ErrorCode.UNAUTHORIZED, _("Invalid or expired refresh token"))


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
            # Only the profile's columns: a full save would write back this request's copy of
            # the password, ``is_active`` and ``status``, undoing a ban committed meanwhile.
            user.save(update_fields=["email", "nickname", "avatar", "updated_at"])
    except IntegrityError as exc:
        raise AppError(ErrorCode.CONFLICT, EMAIL_TAKEN) from exc
    return user


def revoke_all_tokens(user: User) -> None:
    """Every token issued before this call stops working (access and refresh alike), and the
    user's open sockets are closed once the change commits."""
    User.objects.filter(pk=user.pk).update(token_version=F("token_version") + 1)
    user.refresh_from_db(fields=["token_version"])
    revoke_sessions_on_commit(user.pk, user.token_version)


def user_change_password(
    *, user: User, old_password: str, new_password: str, ip: str | None = None
) -> dict[str, str]:
    """Change the password, revoke every older token, and return a fresh pair for this client.

    A wrong ``old_password`` counts as a failed login of the user from ``ip`` and is refused
    with 42900 under the same rule as a login, so a stolen access token cannot be used to
    guess the password without limit. The save revokes every older token (``User.save``).
    """
    if not _password_matches(
        user=user, password=old_password, identity=_failure_identity(user, ""), ip=ip
    ):
        raise bad_request(_("old_password is wrong"))
    if old_password == new_password:
        raise bad_request(_("new_password must differ from old_password"))
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password", "updated_at"])
        return token_pair_for_user(user)


@transaction.atomic
def user_set_banned(*, user: User, banned: bool) -> User:
    """Ban or unban; a change either way revokes every outstanding token of the user and
    closes their sockets (``User.save``)."""
    user.status = User.Status.BANNED if banned else User.Status.ACTIVE
    user.save(update_fields=["status", "updated_at"])
    return user


def tokens_purge_expired(*, batch_size: int = 1000) -> int:
    """Delete the rows of refresh tokens past their expiry (with their blacklist rows); the
    number deleted. ``manage.py purge_expired_tokens`` runs it.

    Every login and refresh adds a row, so without this the table only grows. Forgetting an
    expired token changes no answer: its ``exp`` is checked with its signature, before the
    blacklist is read, so it is refused (40001) with or without its row. Deleted in batches,
    each its own short transaction, so a large backlog neither holds locks for long nor is
    loaded into memory at once.
    """
    cutoff = timezone.now()
    purged = 0
    while True:
        expired = OutstandingToken.objects.filter(expires_at__lte=cutoff)
        ids = list(expired.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return purged
        with transaction.atomic():
            OutstandingToken.objects.filter(pk__in=ids).delete()  # cascades to the blacklist
        purged += len(ids)
