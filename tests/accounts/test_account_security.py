"""Accounts nobody can lock out or take over (issue 20, CONTRACT 3 and 12), through the REST API."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from io import StringIO
from threading import Barrier

import pytest
from django.core.management import call_command
from django.db import connections
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.django_db

STRANGER = "203.0.113.66"
OWNER = "198.51.100.7"


def login(client: APIClient, username: str, password: str = TEST_PASSWORD, *, ip: str):
    body = {"username": username, "password": password}
    return client.post("/login", body, format="json", REMOTE_ADDR=ip)


def refresh(client: APIClient, token: str, *, ip: str = "127.0.0.1"):
    return client.post("/refresh_token", {"refresh_token": token}, format="json", REMOTE_ADDR=ip)


def change_password(client: APIClient, old: str, new: str = "brand-new-1", *, ip: str):
    body = {"old_password": old, "new_password": new}
    return client.put("/user/update/password", body, format="json", REMOTE_ADDR=ip)


def assert_rate_limited(response) -> None:
    assert (response.status_code, response.json()["code"]) == (429, 42900)
    assert int(response["Retry-After"]) >= 1


def authed(access_token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token}")
    return client


# --- nobody can lock a user out ---------------------------------------------------------------


@pytest.fixture
def small_failure_limits(settings):
    settings.IM_LOGIN_FAILURES_PER_USERNAME = 3
    settings.IM_LOGIN_FAILURES_PER_IP = 5


def test_a_strangers_failures_never_lock_the_owner_out(api_client, make_user, small_failure_limits):
    make_user("alice", email="alice@example.com")
    for _ in range(3):
        assert login(api_client, "alice", "wrong-pass", ip=STRANGER).json()["code"] == 40001

    # The user's limit is reached: the stranger's address, which failed, is refused before any
    # password check, even with the right password.
    assert_rate_limited(login(api_client, "alice", ip=STRANGER))
    # The owner, from an address with no recent failures, gets in (also by email, any case).
    assert login(api_client, "alice", ip=OWNER).json()["code"] == 20000
    assert login(api_client, "ALICE@example.com", ip=OWNER).json()["code"] == 20000


def test_each_fresh_address_gets_one_guess_while_the_users_limit_is_reached(
    api_client, make_user, small_failure_limits
):
    make_user("alice")
    for _ in range(3):
        login(api_client, "alice", "wrong-pass", ip=STRANGER)
    # A new address guesses wrong once (40001, counted), then it is refused like the first.
    assert login(api_client, "alice", "guess-2", ip="203.0.113.9").json()["code"] == 40001
    assert_rate_limited(login(api_client, "alice", "guess-3", ip="203.0.113.9"))
    assert_rate_limited(login(api_client, "alice", ip="203.0.113.9"))


def test_guesses_by_username_and_by_email_count_for_one_user(
    api_client, make_user, small_failure_limits
):
    make_user("alice", email="alice@example.com")
    login(api_client, "alice", "wrong-1", ip=STRANGER)
    login(api_client, "ALICE@EXAMPLE.COM", "wrong-2", ip=STRANGER)
    login(api_client, "Alice", "wrong-3", ip=STRANGER)
    assert_rate_limited(login(api_client, "alice@example.com", "wrong-4", ip=STRANGER))


def test_a_blocked_address_is_refused_with_retry_after_for_any_user(
    api_client, make_user, small_failure_limits
):
    make_user("alice")
    for n in range(5):
        assert login(api_client, f"nobody{n}", "wrong-pass", ip=STRANGER).json()["code"] == 40001
    assert_rate_limited(login(api_client, "alice", ip=STRANGER))
    assert login(api_client, "alice", ip=OWNER).json()["code"] == 20000


# --- a wrong old_password counts as a failed login --------------------------------------------


def test_wrong_old_password_counts_per_user_and_is_refused_over_the_limit(
    api_client, make_user, client_for, small_failure_limits
):
    alice = make_user("alice")
    thief = client_for(alice)  # a stolen access token
    for n in range(3):
        wrong = change_password(thief, f"guess-{n}", ip=STRANGER)
        assert (wrong.status_code, wrong.json()["code"]) == (400, 40000)
    # Over the limit: refused before checking, even the right old password; the password stays.
    assert_rate_limited(change_password(thief, TEST_PASSWORD, ip=STRANGER))
    # They count as failed logins of alice: her limit is reached for the failing address ...
    assert_rate_limited(login(api_client, "alice", ip=STRANGER))
    # ... but the owner, from an address without failures, logs in and changes the password.
    pair = login(api_client, "alice", ip=OWNER).json()["data"]
    changed = change_password(authed(pair["access_token"]), TEST_PASSWORD, ip=OWNER)
    assert changed.json()["code"] == 20000


def test_wrong_old_password_counts_per_address(api_client, make_user, client_for, settings):
    settings.IM_LOGIN_FAILURES_PER_IP = 2
    make_user("bob")
    thief = client_for(make_user("alice"))
    for n in range(2):
        assert change_password(thief, f"guess-{n}", ip=STRANGER).json()["code"] == 40000
    assert_rate_limited(change_password(thief, "guess-3", ip=STRANGER))
    assert_rate_limited(login(api_client, "bob", ip=STRANGER))  # the address is blocked
    assert login(api_client, "bob", ip=OWNER).json()["code"] == 20000


# --- successful logins and refreshes are rate limited -----------------------------------------


def test_logins_are_limited_per_user_counting_successes_only(api_client, make_user, settings):
    settings.IM_RATE_LOGIN_PER_USER = "2/min"
    make_user("alice")
    make_user("bob")
    # A stranger's failures do not spend alice's budget: only the password holder can.
    for n in range(5):
        login(api_client, "alice", "wrong-pass", ip=f"203.0.113.{n}")
    assert [login(api_client, "alice", ip=OWNER).json()["code"] for _ in range(2)] == [20000] * 2
    assert_rate_limited(login(api_client, "alice", ip="192.0.2.1"))  # any address
    assert login(api_client, "bob", ip=OWNER).json()["code"] == 20000


def test_login_attempts_are_limited_per_address(api_client, make_user, settings):
    settings.IM_RATE_LOGIN_PER_IP = "3/min"
    make_user("alice")
    codes = [login(api_client, "alice", ip=OWNER).json()["code"] for _ in range(2)]
    codes.append(login(api_client, "nobody", ip=OWNER).json()["code"])
    assert codes == [20000, 20000, 40001]
    assert_rate_limited(login(api_client, "alice", ip=OWNER))
    assert login(api_client, "alice", ip="192.0.2.1").json()["code"] == 20000


def test_refreshes_are_limited_per_user_and_per_address(api_client, make_user, settings):
    settings.IM_RATE_REFRESH_PER_USER = "2/min"
    settings.IM_RATE_REFRESH_PER_IP = "3/min"
    make_user("alice")
    make_user("bob")
    token = login(api_client, "alice", ip=OWNER).json()["data"]["refresh_token"]
    for n in range(2):
        answer = refresh(api_client, token, ip=f"192.0.2.{n}")
        assert answer.json()["code"] == 20000
        token = answer.json()["data"]["refresh_token"]
    assert_rate_limited(refresh(api_client, token, ip="192.0.2.9"))  # alice's limit, any address
    # The refused refresh rotated nothing: the token is not taken for a reused one later.
    assert not BlacklistedToken.objects.filter(token__jti=RefreshToken(token)["jti"]).exists()

    # Per address: every refresh counts, a bad token too.
    bob_token = login(api_client, "bob", ip=OWNER).json()["data"]["refresh_token"]
    assert refresh(api_client, "garbage", ip=OWNER).json()["code"] == 40001
    assert refresh(api_client, "garbage", ip=OWNER).json()["code"] == 40001
    answer = refresh(api_client, bob_token, ip=OWNER)
    assert answer.json()["code"] == 20000
    assert_rate_limited(refresh(api_client, answer.json()["data"]["refresh_token"], ip=OWNER))


def test_im_throttle_0_turns_the_login_and_refresh_limits_off(api_client, make_user, settings):
    settings.IM_THROTTLE = False
    settings.IM_RATE_LOGIN_PER_USER = settings.IM_RATE_LOGIN_PER_IP = "1/min"
    settings.IM_RATE_REFRESH_PER_USER = settings.IM_RATE_REFRESH_PER_IP = "1/min"
    make_user("alice")
    tokens = [login(api_client, "alice", ip=OWNER).json()["data"] for _ in range(3)]
    assert all(refresh(api_client, t["refresh_token"]).json()["code"] == 20000 for t in tokens)


# --- a reused refresh token revokes the chain -------------------------------------------------


def test_reusing_a_rotated_refresh_token_revokes_every_token_of_the_user(
    api_client, make_user, django_capture_on_commit_callbacks
):
    alice = make_user("alice")
    stolen = login(api_client, "alice", ip=OWNER).json()["data"]
    # The thief refreshes first and keeps going; the chain continues from the stolen token.
    thief = refresh(api_client, stolen["refresh_token"]).json()["data"]
    thief = refresh(api_client, thief["refresh_token"]).json()["data"]
    other_device = login(api_client, "alice", ip=OWNER).json()["data"]
    assert authed(thief["access_token"]).get("/user/profile").json()["code"] == 20000

    with django_capture_on_commit_callbacks() as callbacks:
        reused = refresh(api_client, stolen["refresh_token"])  # the owner's copy, now reused
    assert (reused.status_code, reused.json()["code"]) == (401, 40001)
    assert len(callbacks) == 1  # the revocation committed: the push that closes the sockets

    alice.refresh_from_db()
    assert alice.token_version == 1
    for pair in (thief, other_device):
        assert authed(pair["access_token"]).get("/user/profile").json()["code"] == 40001
        assert refresh(api_client, pair["refresh_token"]).json()["code"] == 40001
    # A reuse of a token already revoked changes nothing more; the password still works.
    assert refresh(api_client, stolen["refresh_token"]).json()["code"] == 40001
    alice.refresh_from_db()
    assert alice.token_version == 1
    fresh = login(api_client, "alice", ip=OWNER).json()["data"]
    assert authed(fresh["access_token"]).get("/user/profile").json()["code"] == 20000


def test_a_logged_out_refresh_token_used_again_revokes_the_user_too(api_client, make_user):
    make_user("alice")
    pair = login(api_client, "alice", ip=OWNER).json()["data"]
    other = login(api_client, "alice", ip=OWNER).json()["data"]
    api_client.post("/logout", {"refresh_token": pair["refresh_token"]}, format="json")
    assert refresh(api_client, pair["refresh_token"]).json()["code"] == 40001
    assert authed(other["access_token"]).get("/user/profile").json()["code"] == 40001


def test_a_bad_or_expired_refresh_token_revokes_nothing(api_client, make_user):
    alice = make_user("alice")
    pair = login(api_client, "alice", ip=OWNER).json()["data"]
    expired = RefreshToken.for_user(alice)
    expired["tv"] = alice.token_version
    expired.set_exp(from_time=timezone.now() - timedelta(days=30))
    for token in ("garbage", str(expired), pair["access_token"]):
        assert refresh(api_client, token).json()["code"] == 40001
    assert authed(pair["access_token"]).get("/user/profile").json()["code"] == 20000


# --- expired refresh tokens are purged ----------------------------------------------------------


def _token_rows(user: User, *, expired: bool, blacklisted: bool) -> OutstandingToken:
    token = RefreshToken.for_user(user)  # stores its row
    row = OutstandingToken.objects.get(jti=token["jti"])
    if expired:
        row.expires_at = timezone.now() - timedelta(seconds=1)
        row.save(update_fields=["expires_at"])
    if blacklisted:
        BlacklistedToken.objects.create(token=row)
    return row


@pytest.mark.parametrize("command", ["purge_expired_tokens", "flushexpiredtokens"])
def test_purging_deletes_expired_refresh_tokens_and_their_blacklist_rows(make_user, command):
    alice = make_user("alice")
    expired = [_token_rows(alice, expired=True, blacklisted=n % 2 == 0) for n in range(5)]
    live = [_token_rows(alice, expired=False, blacklisted=n % 2 == 0) for n in range(3)]
    args = ["--batch-size", "2"] if command == "purge_expired_tokens" else []
    call_command(command, *args, stdout=StringIO())
    remaining = set(OutstandingToken.objects.values_list("pk", flat=True))
    assert remaining == {row.pk for row in live}
    assert BlacklistedToken.objects.count() == 2
    assert not {row.pk for row in expired} & remaining


def test_purge_reports_what_it_deleted_and_live_tokens_keep_working(api_client, make_user):
    alice = make_user("alice")
    pair = login(api_client, "alice", ip=OWNER).json()["data"]
    for _ in range(3):
        _token_rows(alice, expired=True, blacklisted=True)
    out = StringIO()
    call_command("purge_expired_tokens", stdout=out)
    assert out.getvalue().strip() == "Purged 3 expired refresh token(s)."
    assert refresh(api_client, pair["refresh_token"]).json()["code"] == 20000
    # A rotated (blacklisted) live token keeps its row: its reuse is still recognised.
    call_command("purge_expired_tokens", stdout=out)
    assert refresh(api_client, pair["refresh_token"]).json()["code"] == 40001


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_with_one_token_one_wins_and_the_other_is_a_reuse(make_user):
    """Threads on PostgreSQL (the in-memory SQLite test database locks whole tables across
    connections): exactly one rotation; the others are reuses, which revoke every token of
    the user, the winner's new pair included."""
    alice = make_user("alice")
    token = login(APIClient(), "alice", ip=OWNER).json()["data"]["refresh_token"]
    barrier = Barrier(4)

    def attempt(_: int) -> dict:
        try:
            barrier.wait(timeout=10)
            return refresh(APIClient(), token).json()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(attempt, range(4)))
    assert sorted(answer["code"] for answer in answers) == [20000, 40001, 40001, 40001]
    winner = next(answer["data"] for answer in answers if answer["code"] == 20000)
    alice.refresh_from_db()
    assert alice.token_version >= 1
    assert refresh(APIClient(), winner["refresh_token"]).json()["code"] == 40001
    assert (
        BlacklistedToken.objects.filter(token__jti=RefreshToken(token, verify=False)["jti"]).count()
        == 1
    )
