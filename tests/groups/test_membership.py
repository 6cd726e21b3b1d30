"""Invite, join, handle, leave, kick, transfer, set role, mute: effects beyond the code."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from groups import selectors, services
from groups.models import Group, GroupApplication, GroupMember
from imserver.api.errors import AppError
from tests.groups.conftest import member_count_is_exact

pytestmark = pytest.mark.django_db


def role_of(group: Group, user: User) -> int | None:
    member = selectors.member_or_none(group.id, user.id)
    return member.role if member else None


def test_invite_adds_new_users_and_skips_members_unknown_and_banned(world, make_user, as_user):
    a, b = make_user(), make_user()
    banned = make_user(status=User.Status.BANNED)
    body = {
        "group_id": world.group.id,
        "user_ids": [a.id, str(b.id), a.id, world.admin.id, 999999, banned.id],
    }
    data = as_user(world.member)("post", "/group/invite", body)["data"]
    assert data == {"added": [a.id, b.id], "skipped": [world.admin.id, 999999, banned.id]}
    assert member_count_is_exact(world.group) and world.group.member_count == 5
    assert role_of(world.group, a) == GroupMember.Role.MEMBER


def test_invite_of_only_members_adds_nobody(world, as_user):
    body = {"group_id": world.group.id, "user_ids": [world.owner.id]}
    data = as_user(world.member)("post", "/group/invite", body)["data"]
    assert data == {"added": [], "skipped": [world.owner.id]}


def test_invite_beyond_capacity_adds_no_one(world, make_user, as_user):
    Group.objects.filter(pk=world.group.pk).update(max_member_count=4)
    a, b = make_user(), make_user()
    body = {"group_id": world.group.id, "user_ids": [a.id, b.id]}
    payload = as_user(world.owner)("post", "/group/invite", body)
    assert payload["code"] == 40000 and "4" in payload["message"]
    assert GroupMember.objects.filter(group=world.group).count() == 3
    body["user_ids"] = [a.id]
    assert as_user(world.owner)("post", "/group/invite", body)["data"]["added"] == [a.id]
    assert member_count_is_exact(world.group) and world.group.member_count == 4


def test_invite_answers_a_pending_application(world, as_user):
    services.group_join_apply(user=world.outsider, group_id=world.group.id, reason="r")
    body = {"group_id": world.group.id, "user_ids": [world.outsider.id]}
    as_user(world.member)("post", "/group/invite", body)
    application = GroupApplication.objects.get()
    assert application.status == GroupApplication.Status.APPROVED
    assert application.handled_by == world.member


def test_join_creates_then_renews_one_application(world, as_user):
    ask = as_user(world.outsider)
    first = ask("post", "/group/join", {"group_id": world.group.id, "reason": " 我想加入 "})
    assert first["code"] == 20000
    application = GroupApplication.objects.get()
    assert application.reason == "我想加入" and application.arrival_seq == 1
    again = ask("post", "/group/join", {"group_id": str(world.group.id), "reason": "again"})
    assert again["data"]["application_id"] == first["data"]["application_id"]
    application.refresh_from_db()
    assert (application.reason, application.arrival_seq) == ("again", 2)
    assert application.arrived_at >= application.created_at
    assert GroupApplication.objects.count() == 1
    assert (
        ask("post", "/group/join", {"group_id": world.group.id, "reason": "r" * 201})["code"]
        == 40000
    )


def test_join_a_full_group_is_refused(world, as_user):
    Group.objects.filter(pk=world.group.pk).update(max_member_count=3)
    payload = as_user(world.outsider)("post", "/group/join", {"group_id": world.group.id})
    assert payload["code"] == 40000


def test_approve_adds_the_member_and_cannot_be_repeated(world, as_user):
    application = services.group_join_apply(user=world.outsider, group_id=world.group.id)
    body = {"application_id": application.id, "approve": True}
    data = as_user(world.admin)("post", "/group/request/handle", body)["data"]
    assert data["status"] == GroupApplication.Status.APPROVED
    assert role_of(world.group, world.outsider) == GroupMember.Role.MEMBER
    assert member_count_is_exact(world.group) and world.group.member_count == 4
    again = as_user(world.owner)("post", "/group/request/handle", body)
    assert again["code"] == 40009
    reject = {"application_id": application.id, "approve": False}
    assert as_user(world.owner)("post", "/group/request/handle", reject)["code"] == 40009


def test_reject_keeps_the_applicant_out_and_a_new_application_is_possible(world, as_user):
    application = services.group_join_apply(user=world.outsider, group_id=world.group.id)
    body = {"application_id": application.id, "approve": False}
    assert as_user(world.owner)("post", "/group/request/handle", body)["data"]["status"] == 3
    assert role_of(world.group, world.outsider) is None
    new = as_user(world.outsider)("post", "/group/join", {"group_id": world.group.id})
    assert new["data"]["application_id"] != application.id


def test_approving_into_a_full_group_is_refused(world, as_user):
    application = services.group_join_apply(user=world.outsider, group_id=world.group.id)
    Group.objects.filter(pk=world.group.pk).update(max_member_count=3)
    body = {"application_id": application.id, "approve": True}
    assert as_user(world.owner)("post", "/group/request/handle", body)["code"] == 40000
    application.refresh_from_db()
    assert application.status == GroupApplication.Status.PENDING


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"application_id": 999999, "approve": True}, 40004),
        ({"application_id": "x", "approve": True}, 40000),
        ({"approve": True}, 40000),
        ({"application_id": 1}, 40000),
        ({"application_id": 1, "approve": "maybe"}, 40000),
    ],
)
def test_handle_validates(world, as_user, body, code):
    assert as_user(world.owner)("post", "/group/request/handle", body)["code"] == code


def test_an_admin_of_another_group_cannot_handle(world, make_user, as_user):
    application = services.group_join_apply(user=world.outsider, group_id=world.group.id)
    other_owner = make_user()
    services.group_create(owner=other_owner, name="other")
    body = {"application_id": application.id, "approve": True}
    assert as_user(other_owner)("post", "/group/request/handle", body)["code"] == 40004


def test_leave_and_rejoin_is_a_new_membership(world, as_user):
    before = selectors.member_or_none(world.group.id, world.member.id)
    assert as_user(world.member)("post", "/group/leave", {"group_id": world.group.id})["code"] == (
        20000
    )
    assert selectors.member_or_none(world.group.id, world.member.id) is None
    assert member_count_is_exact(world.group) and world.group.member_count == 2
    services.group_invite(user=world.owner, group_id=world.group.id, user_ids=[world.member.id])
    after = selectors.member_or_none(world.group.id, world.member.id)
    assert after.id != before.id and after.joined_at > before.joined_at


def test_kick_removes_the_member(world, as_user):
    body = {"group_id": world.group.id, "user_id": world.member.id}
    assert as_user(world.admin)("post", "/group/kick", body)["code"] == 20000
    assert role_of(world.group, world.member) is None
    assert member_count_is_exact(world.group) and world.group.member_count == 2


def test_transfer_swaps_roles_and_owner(world, as_user):
    services.group_member_mute(
        user=world.owner, group_id=world.group.id, target_user_id=world.admin.id, duration=60
    )
    body = {"group_id": world.group.id, "new_owner_id": world.admin.id}
    assert as_user(world.owner)("post", "/group/transfer", body)["code"] == 20000
    world.group.refresh_from_db()
    assert world.group.owner_id == world.admin.id
    assert role_of(world.group, world.admin) == GroupMember.Role.OWNER
    assert role_of(world.group, world.owner) == GroupMember.Role.MEMBER
    assert selectors.member_or_none(world.group.id, world.admin.id).mute_remaining_seconds() == 0
    # the old owner may now leave, the new one may not
    assert as_user(world.owner)("post", "/group/leave", {"group_id": world.group.id})["code"] == (
        20000
    )
    assert as_user(world.admin)("post", "/group/leave", {"group_id": world.group.id})["code"] == (
        40000
    )


def test_set_role_changes_the_role(world, as_user):
    body = {"group_id": world.group.id, "user_id": world.member.id, "role": 1}
    as_user(world.owner)("post", "/group/set/role", body)
    assert role_of(world.group, world.member) == GroupMember.Role.ADMIN
    # the new admin may now kick plain members only
    kick = {"group_id": world.group.id, "user_id": world.admin.id}
    assert as_user(world.member)("post", "/group/kick", kick)["code"] == 40003


def test_mute_stores_an_expiry_and_zero_unmutes(world, as_user):
    body = {"group_id": world.group.id, "user_id": world.member.id, "duration": 3600}
    data = as_user(world.admin)("post", "/group/mute/member", body)["data"]
    member = selectors.member_or_none(world.group.id, world.member.id)
    expected = timezone.now() + timedelta(seconds=3600)
    assert abs((member.muted_until - expected).total_seconds()) < 5
    assert data["muted_until"] == int(member.muted_until.timestamp())
    assert 3590 < member.mute_remaining_seconds() <= 3600
    listed = as_user(world.owner)("get", "/group/members", {"group_id": world.group.id})["data"]
    assert listed["members"][2]["muted_until"] == data["muted_until"]
    body["duration"] = 0
    assert as_user(world.admin)("post", "/group/mute/member", body)["data"]["muted_until"] is None
    assert selectors.member_or_none(world.group.id, world.member.id).mute_remaining_seconds() == 0


def test_an_expired_mute_is_not_a_mute(world):
    GroupMember.objects.filter(user=world.member).update(
        muted_until=timezone.now() - timedelta(seconds=1)
    )
    member = selectors.member_or_none(world.group.id, world.member.id)
    assert member.mute_remaining_seconds() == 0


def test_selectors_for_chat(world):
    assert selectors.member_user_ids(world.group.id) == [
        world.owner.id,
        world.admin.id,
        world.member.id,
    ]
    assert selectors.member_or_none(world.group.id, world.outsider.id) is None
    member = selectors.membership_require(group_id=world.group.id, user_id=world.member.id)
    assert member.group == world.group
    with pytest.raises(AppError) as not_member:
        selectors.membership_require(group_id=world.group.id, user_id=world.outsider.id)
    assert not_member.value.error_code == 40003
    with pytest.raises(AppError) as unknown:
        selectors.membership_require(group_id=999999, user_id=world.member.id)
    assert unknown.value.error_code == 40004
    services.group_dismiss(user=world.owner, group_id=world.group.id)
    with pytest.raises(AppError) as dismissed:
        selectors.membership_require(group_id=world.group.id, user_id=world.member.id)
    assert dismissed.value.error_code == 40004


def test_member_selectors_use_one_query(world, django_assert_num_queries):
    with django_assert_num_queries(1):
        selectors.member_user_ids(world.group.id)
    with django_assert_num_queries(1):
        selectors.member_or_none(world.group.id, world.member.id).group.name  # noqa: B018
