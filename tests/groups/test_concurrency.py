"""Membership changes racing on PostgreSQL: the count stays exact, the capacity holds."""

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from groups import services
from groups.models import Group, GroupApplication, GroupMember
from groups.selectors import group_applications_unread_count
from imserver.api.errors import AppError

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.requires_postgres]

THREADS = 20


def race(calls: list[Callable[[], object]]) -> list[object]:
    """Run every call in its own thread, released together; each result or the AppError code."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except AppError as exc:
            results[index] = int(exc.error_code)
        except Exception as exc:  # reported by the assertion below
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not [r for r in results if isinstance(r, Exception)], results
    return results


def assert_exact(group: Group) -> int:
    group.refresh_from_db()
    members = GroupMember.objects.filter(group=group).count()
    assert group.member_count == members
    assert members <= group.max_member_count
    return members


@pytest.fixture
def near_full(make_user):
    """A group with 5 members and room for 5 more."""
    owner = make_user()
    group = services.group_create(owner=owner, name="near full")
    services.group_invite(
        user=owner, group_id=group.id, user_ids=[make_user().id for _ in range(4)]
    )
    Group.objects.filter(pk=group.pk).update(max_member_count=10)
    return owner, group


def test_parallel_invites_never_exceed_capacity(near_full, make_user):
    owner, group = near_full
    invitees = [make_user() for _ in range(THREADS)]
    results = race(
        [
            lambda user=user: services.group_invite(
                user=owner, group_id=group.id, user_ids=[user.id]
            )
            for user in invitees
        ]
    )
    added = [r for r in results if isinstance(r, dict) and r["added"]]
    assert len(added) == 5 and results.count(40000) == THREADS - 5
    assert assert_exact(group) == 10


def test_parallel_invites_of_the_same_users_add_each_once(near_full, make_user):
    owner, group = near_full
    Group.objects.filter(pk=group.pk).update(max_member_count=100)
    same = [make_user().id for _ in range(3)]
    results = race(
        [
            lambda: services.group_invite(user=owner, group_id=group.id, user_ids=same)
            for _ in range(THREADS)
        ]
    )
    assert sum(len(r["added"]) for r in results) == 3
    assert assert_exact(group) == 8


def test_parallel_approvals_never_exceed_capacity(near_full, make_user):
    owner, group = near_full
    applications = [
        services.group_join_apply(user=make_user(), group_id=group.id) for _ in range(THREADS)
    ]
    results = race(
        [
            lambda app=app: services.group_application_handle(
                user=owner, application_id=app.id, approve=True
            )
            for app in applications
        ]
    )
    approved = [r for r in results if isinstance(r, GroupApplication)]
    assert len(approved) == 5 and results.count(40000) == THREADS - 5
    assert assert_exact(group) == 10
    assert GroupApplication.objects.filter(status=GroupApplication.Status.APPROVED).count() == 5


def test_parallel_handling_of_one_application_succeeds_once(near_full, make_user):
    owner, group = near_full
    application = services.group_join_apply(user=make_user(), group_id=group.id)
    results = race(
        [
            lambda: services.group_application_handle(
                user=owner, application_id=application.id, approve=True
            )
            for _ in range(THREADS)
        ]
    )
    assert results.count(40009) == THREADS - 1
    assert assert_exact(group) == 6


def test_mixed_joins_leaves_kicks_and_invites_keep_the_count_exact(near_full, make_user):
    owner, group = near_full
    Group.objects.filter(pk=group.pk).update(max_member_count=12)
    members = list(
        GroupMember.objects.filter(group=group, role=GroupMember.Role.MEMBER).select_related("user")
    )
    leaver, kicked = members[0].user, members[1].user
    pending = [services.group_join_apply(user=make_user(), group_id=group.id) for _ in range(8)]
    invitees = [make_user() for _ in range(8)]
    calls: list[Callable[[], object]] = [
        lambda: services.group_leave(user=leaver, group_id=group.id),
        lambda: services.group_kick(user=owner, group_id=group.id, target_user_id=kicked.id),
    ]
    calls += [
        lambda app=app: services.group_application_handle(
            user=owner, application_id=app.id, approve=True
        )
        for app in pending
    ]
    calls += [
        lambda user=user: services.group_invite(user=owner, group_id=group.id, user_ids=[user.id])
        for user in invitees
    ]
    calls += [
        lambda: services.group_join_apply(user=make_user(), group_id=group.id) for _ in range(2)
    ]
    results = race(calls)
    handled, invited = results[2:10], results[10:18]
    added = sum(isinstance(r, GroupApplication) for r in handled) + sum(
        len(r["added"]) for r in invited if isinstance(r, dict)
    )
    # Whatever the interleaving: 5 members, minus the leaver and the kicked, plus every add that
    # succeeded; an add refused for capacity means the group was full at that moment.
    assert assert_exact(group) == 5 - 2 + added
    assert 12 - 5 <= added <= 12 - 3  # full at some point; the removals freed at most 2


def test_parallel_applications_each_count_once_as_unread(near_full, make_user):
    owner, group = near_full
    applicants = [make_user() for _ in range(THREADS)]
    race(
        [
            lambda user=user: services.group_join_apply(user=user, group_id=group.id)
            for user in applicants
        ]
    )
    seqs = sorted(GroupApplication.objects.values_list("arrival_seq", flat=True))
    assert seqs == list(range(1, THREADS + 1))
    assert group_applications_unread_count(user=owner) == THREADS
