"""Issue 20, groups: invites skip users who blocked the inviter, a repeated join notifies
nobody again, and create, invite, join and update are rate limited per user."""

import pytest
from django.conf import settings as django_settings

from groups import services
from groups.models import Group, GroupApplication, GroupMember
from imserver.api.throttling import parse_rate
from notifications.models import GroupNotification
from social import services as social_services
from social.models import Friendship
from tests.groups.conftest import member_count_is_exact

pytestmark = pytest.mark.django_db


# --- invites and blocks ---------------------------------------------------------------------


def test_invite_skips_users_who_blocked_the_inviter(world, make_user):
    blocker, friendly = make_user("blocker"), make_user("friendly")
    social_services.friend_block(user=blocker, friend_id=world.member.pk)
    result = services.group_invite(
        user=world.member, group_id=world.group.id, user_ids=[blocker.pk, friendly.pk]
    )
    assert result == {"added": [friendly.pk], "skipped": [blocker.pk]}
    assert not GroupMember.objects.filter(group=world.group, user=blocker).exists()
    assert not GroupNotification.objects.filter(recipient=blocker).exists()
    assert member_count_is_exact(world.group)


def test_a_block_of_someone_else_or_by_the_inviter_does_not_skip(world, make_user):
    """Only the invitee's block of the inviter counts: blocking another member, or being
    blocked by the inviter, is no refusal of this inviter's invitation."""
    a, b = make_user("a"), make_user("b")
    social_services.friend_block(user=a, friend_id=world.owner.pk)  # a blocked someone else
    social_services.friend_block(user=world.member, friend_id=b.pk)  # the inviter blocked b
    result = services.group_invite(
        user=world.member, group_id=world.group.id, user_ids=[a.pk, b.pk]
    )
    assert result == {"added": [a.pk, b.pk], "skipped": []}


def test_a_blocker_among_friends_is_skipped_and_after_unblocking_is_added(world, make_user):
    friend = make_user("friend")
    Friendship.objects.create(user=friend, friend=world.admin)
    Friendship.objects.create(user=world.admin, friend=friend)
    social_services.friend_block(user=friend, friend_id=world.admin.pk)
    assert services.group_invite(user=world.admin, group_id=world.group.id, user_ids=[friend.pk])[
        "skipped"
    ] == [friend.pk]
    social_services.friend_unblock(user=friend, friend_id=world.admin.pk)
    assert services.group_invite(user=world.admin, group_id=world.group.id, user_ids=[friend.pk])[
        "added"
    ] == [friend.pk]


def test_invite_view_lists_blockers_in_skipped_in_the_order_sent(world, make_user, as_user):
    users = [make_user(f"u{n}") for n in range(4)]
    for blocker in users[1::2]:
        social_services.friend_block(user=blocker, friend_id=world.admin.pk)
    ids = [u.pk for u in users]
    payload = as_user(world.admin)(
        "post", "/group/invite", {"group_id": world.group.id, "user_ids": ids}
    )
    assert payload["code"] == 20000
    assert payload["data"] == {"added": [ids[0], ids[2]], "skipped": [ids[1], ids[3]]}


def test_invite_runs_the_same_queries_for_few_and_many_invitees(
    world, make_user, client_for, django_assert_max_num_queries
):
    """The block check is part of the one query that picks the invitable users."""

    def invite(n: int) -> int:
        users = [make_user() for _ in range(n)]
        for blocker in users[::3]:
            social_services.friend_block(user=blocker, friend_id=world.owner.pk)
        client = client_for(world.owner)
        with django_assert_max_num_queries(100) as captured:
            response = client.post(
                "/group/invite",
                {"group_id": world.group.id, "user_ids": [u.pk for u in users]},
                format="json",
            )
        assert response.json()["code"] == 20000
        assert len(response.json()["data"]["skipped"]) == len(users[::3])
        return len(captured)

    assert invite(2) == invite(30)


# --- a repeated join ------------------------------------------------------------------------


def test_a_repeated_join_notifies_nobody_again(
    world, as_user, push_recorder, django_capture_on_commit_callbacks
):
    push_recorder.listen(world.owner.id, world.admin.id)
    ask = as_user(world.outsider)
    body = {"group_id": world.group.id, "reason": "let me in"}
    with django_capture_on_commit_callbacks(execute=True):
        first = ask("post", "/group/join", body)
    assert first["code"] == 20000
    assert [e["data"]["type"] for e in push_recorder.events(world.owner.id)] == [1]
    assert [e["data"]["type"] for e in push_recorder.events(world.admin.id)] == [1]
    notifications = GroupNotification.objects.count()
    application = GroupApplication.objects.get()

    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            again = ask("post", "/group/join", body)
        # Answered as already applied: success, the same application, nothing written or sent.
        assert again == first
        assert callbacks == []
    assert GroupNotification.objects.count() == notifications
    assert push_recorder.events(world.owner.id) == []
    assert push_recorder.events(world.admin.id) == []
    unchanged = GroupApplication.objects.get()
    assert (unchanged.pk, unchanged.arrival_seq, unchanged.arrived_at, unchanged.updated_at) == (
        application.pk,
        application.arrival_seq,
        application.arrived_at,
        application.updated_at,
    )


def test_a_repeated_join_with_the_same_reason_writes_nothing(world, django_assert_max_num_queries):
    services.group_join_apply(user=world.outsider, group_id=world.group.id, reason="r")
    seq = Group.objects.get(pk=world.group.pk).application_seq
    with django_assert_max_num_queries(10) as captured:
        services.group_join_apply(user=world.outsider, group_id=world.group.id, reason="r")
    writes = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].lstrip().startswith(("INSERT", "UPDATE"))
    ]
    assert writes == []
    assert Group.objects.get(pk=world.group.pk).application_seq == seq


def test_a_new_reason_renews_the_application_without_a_notification(world, as_user):
    ask = as_user(world.outsider)
    first = ask("post", "/group/join", {"group_id": world.group.id, "reason": "one"})
    seen = as_user(world.owner)("get", "/notification/request/group")["data"]
    assert [a["reason"] for a in seen["applications"]] == ["one"]
    unread = "/notification/request/group/unread-count"
    assert as_user(world.owner)("get", unread)["data"] == {"total_unread_count": 0}

    again = ask("post", "/group/join", {"group_id": world.group.id, "reason": "two"})
    assert again["data"]["application_id"] == first["data"]["application_id"]
    # The managers see the new reason and count it unread again (CONTRACT 5: a repeated
    # application updates the reason; 6.5 counts renewals) but get no second notification.
    assert as_user(world.owner)("get", unread)["data"] == {"total_unread_count": 1}
    seen = as_user(world.owner)("get", "/notification/request/group")["data"]
    assert [a["reason"] for a in seen["applications"]] == ["two"]
    assert GroupNotification.objects.filter(type=1).count() == 2  # owner and admin, once
    assert GroupApplication.objects.count() == 1


def test_after_a_rejection_a_new_application_notifies_again(world):
    first = services.group_join_apply(user=world.outsider, group_id=world.group.id)
    services.group_application_handle(user=world.owner, application_id=first.id, approve=False)
    second = services.group_join_apply(user=world.outsider, group_id=world.group.id)
    assert second.pk != first.pk
    assert GroupNotification.objects.filter(type=1).count() == 4  # two managers, twice


# --- rate limits ----------------------------------------------------------------------------


def create(ask, n: int) -> dict:
    return ask("post", "/group/create", {"group_name": f"g{n}"})


@pytest.fixture
def throttled(settings):
    """Limits on (as in production); each test sets the rate it exercises."""
    settings.IM_THROTTLE = True
    return settings


def test_group_creation_is_limited_per_user(world, as_user, client_for, throttled):
    throttled.IM_RATE_GROUP_CREATE_PER_USER = "2/h"
    ask = as_user(world.outsider)
    before = Group.objects.count()
    assert [create(ask, n)["code"] for n in range(2)] == [20000, 20000]
    response = client_for(world.outsider).post("/group/create", {"group_name": "x"}, format="json")
    assert (response.status_code, response.json()["code"]) == (429, 42900)
    assert 1 <= int(response["Retry-After"]) <= 3600
    assert Group.objects.count() == before + 2
    # Another user has their own budget.
    assert create(as_user(world.member), 9)["code"] == 20000


def test_invalid_input_does_not_count(world, as_user, throttled):
    throttled.IM_RATE_GROUP_CREATE_PER_USER = "1/h"
    ask = as_user(world.outsider)
    assert ask("post", "/group/create", {"group_name": ""})["code"] == 40000
    assert create(ask, 1)["code"] == 20000
    assert create(ask, 2)["code"] == 42900


def test_invites_are_limited_per_user(world, make_user, as_user, throttled):
    throttled.IM_RATE_GROUP_INVITE_PER_USER = "2/h"
    ask = as_user(world.member)
    users = [make_user() for _ in range(3)]
    codes = [
        ask("post", "/group/invite", {"group_id": world.group.id, "user_ids": [u.pk]})["code"]
        for u in users
    ]
    assert codes == [20000, 20000, 42900]
    assert not GroupMember.objects.filter(user=users[2]).exists()


def test_joins_are_limited_per_user_and_a_refused_one_writes_nothing(
    world, make_user, as_user, throttled
):
    throttled.IM_RATE_GROUP_JOIN_PER_USER = "2/h"
    groups = [services.group_create(owner=world.owner, name=f"g{n}") for n in range(3)]
    ask = as_user(world.outsider)
    codes = [ask("post", "/group/join", {"group_id": g.pk})["code"] for g in groups]
    assert codes == [20000, 20000, 42900]
    assert not GroupApplication.objects.filter(group=groups[2]).exists()
    assert not GroupNotification.objects.filter(group=groups[2]).exists()


def test_updates_are_limited_per_user(world, as_user, throttled):
    throttled.IM_RATE_GROUP_UPDATE_PER_USER = "2/h"
    ask = as_user(world.admin)
    codes = [
        ask("put", "/group/update/info", {"group_id": world.group.id, "name": f"n{n}"})["code"]
        for n in range(3)
    ]
    assert codes == [20000, 20000, 42900]
    assert Group.objects.get(pk=world.group.pk).name == "n1"


def test_im_throttle_0_turns_the_group_limits_off(world, as_user, settings):
    settings.IM_THROTTLE = False
    settings.IM_RATE_GROUP_CREATE_PER_USER = "1/h"
    ask = as_user(world.outsider)
    assert [create(ask, n)["code"] for n in range(3)] == [20000] * 3


def test_every_group_limit_is_a_setting_with_a_default():
    for name in (
        "IM_RATE_GROUP_CREATE_PER_USER",
        "IM_RATE_GROUP_INVITE_PER_USER",
        "IM_RATE_GROUP_JOIN_PER_USER",
        "IM_RATE_GROUP_UPDATE_PER_USER",
    ):
        count, window_s = parse_rate(getattr(django_settings, name))
        assert count >= 1 and window_s >= 1
