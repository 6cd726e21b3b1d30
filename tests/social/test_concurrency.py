"""Races between the two users of a pair, on PostgreSQL with real transactions and threads."""

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from imserver.api.errors import AppError, ErrorCode
from social import services
from social.models import FriendRequest, Friendship

pytestmark = [pytest.mark.requires_postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 8


def run_together(*calls: Callable[[], Any]) -> list[Any]:
    """Start every call at the same moment, each in its own thread and connection."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def worker(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def pair_rows(user, other):
    return sorted(
        Friendship.objects.filter(
            user_id__in=[user.pk, other.pk], friend_id__in=[user.pk, other.pk]
        ).values_list("user_id", "friend_id", "status", "is_friend")
    )


def friends(user, other):
    return [(user.pk, other.pk, 1, True), (other.pk, user.pk, 1, True)]


def test_two_users_asking_each_other_at_once_become_friends_once(make_user):
    for _ in range(ROUNDS):
        alice, bob = make_user(), make_user()
        results = run_together(
            lambda a=alice, b=bob: services.friend_request_send(from_user=a, to_user_id=b.pk),
            lambda a=alice, b=bob: services.friend_request_send(from_user=b, to_user_id=a.pk),
        )
        assert all(isinstance(result, FriendRequest) for result in results), results
        assert results[0].pk == results[1].pk
        assert pair_rows(alice, bob) == friends(alice, bob)
        [friend_request] = FriendRequest.objects.filter(from_user__in=[alice, bob])
        assert friend_request.status == FriendRequest.Status.ACCEPTED


def test_a_double_accept_makes_one_friendship_and_one_40009(make_user):
    for _ in range(ROUNDS):
        alice, bob = make_user(), make_user()
        friend_request = services.friend_request_send(from_user=alice, to_user_id=bob.pk)

        def accept(bob=bob, request_id=friend_request.pk):
            return services.friend_request_handle(user=bob, request_id=request_id, action=2)

        results = run_together(accept, accept)
        accepted = [result for result in results if isinstance(result, FriendRequest)]
        refused = [result for result in results if isinstance(result, AppError)]
        assert (len(accepted), len(refused)) == (1, 1), results
        assert refused[0].error_code == ErrorCode.CONFLICT
        assert pair_rows(alice, bob) == friends(alice, bob)


def test_an_accept_racing_a_send_back_makes_one_friendship(make_user):
    for _ in range(ROUNDS):
        alice, bob = make_user(), make_user()
        friend_request = services.friend_request_send(from_user=alice, to_user_id=bob.pk)
        results = run_together(
            lambda b=bob, r=friend_request.pk: services.friend_request_handle(
                user=b, request_id=r, action=2
            ),
            lambda a=alice, b=bob: services.friend_request_send(from_user=b, to_user_id=a.pk),
        )
        unexpected = [
            result
            for result in results
            if not isinstance(result, FriendRequest)
            and not (isinstance(result, AppError) and result.error_code == ErrorCode.CONFLICT)
        ]
        assert unexpected == []
        assert pair_rows(alice, bob) == friends(alice, bob)
        assert FriendRequest.objects.filter(from_user__in=[alice, bob]).count() == 1


def test_a_block_racing_an_accept_leaves_a_consistent_pair(make_user):
    for _ in range(ROUNDS):
        alice, bob = make_user(), make_user()
        friend_request = services.friend_request_send(from_user=alice, to_user_id=bob.pk)
        results = run_together(
            lambda b=bob, r=friend_request.pk: services.friend_request_handle(
                user=b, request_id=r, action=2
            ),
            lambda a=alice, b=bob: services.friend_block(user=a, friend_id=b.pk),
        )
        assert not any(isinstance(result, Exception) for result in results), results
        assert pair_rows(alice, bob) == [(alice.pk, bob.pk, 2, True), (bob.pk, alice.pk, 1, True)]
