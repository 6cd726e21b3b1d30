"""Group notifications: rows per type (CONTRACT 2), pushes, 6.3 listing, 6.4 and 6.5."""

import pytest

from groups import services
from groups.models import GroupApplication
from notifications.models import GroupNotification

pytestmark = pytest.mark.django_db

NOTIFICATION_FIELDS = {
    "id",
    "type",
    "group_id",
    "operator_id",
    "target_user_id",
    "message",
    "timestamp",
    "is_read",
    "operator_nickname",
    "operator_avatar",
    "target_user_nickname",
    "target_user_avatar",
    "group_name",
}
APPLICATION_FIELDS = {
    "id",
    "group_id",
    "user_id",
    "reason",
    "apply_time",
    "user_nickname",
    "user_avatar",
    "group_name",
    "group_avatar",
    "status",
}


def rows(**filters) -> list[tuple[int, int, int | None, int | None]]:
    """(recipient, type, operator, target) of the matching rows, in creation order."""
    return list(
        GroupNotification.objects.filter(**filters)
        .order_by("id")
        .values_list("recipient_id", "type", "operator_id", "target_user_id")
    )


def by_type(w, type_: int) -> set[tuple]:
    return set(rows(type=type_, group=w.group))


def test_type_1_application_received_goes_to_owner_and_admins(world):
    services.group_join_apply(user=world.outsider, group_id=world.group.id, reason="hi")
    o = world.outsider.id
    assert by_type(world, 1) == {(world.owner.id, 1, o, o), (world.admin.id, 1, o, o)}
    row = GroupNotification.objects.get(recipient=world.owner)
    assert row.message == "'Otto' 申请加入群聊 'Team'"


@pytest.mark.parametrize(("approve", "type_"), [(True, 2), (False, 3)])
def test_types_2_and_3_application_handled_go_to_the_applicant(world, approve, type_):
    application = services.group_join_apply(user=world.outsider, group_id=world.group.id)
    services.group_application_handle(
        user=world.admin, application_id=application.id, approve=approve
    )
    assert by_type(world, type_) == {(world.outsider.id, type_, world.admin.id, world.outsider.id)}
    verb = "同意" if approve else "拒绝"
    assert GroupNotification.objects.get(type=type_).message == (
        f"'Adam' {verb}了你加入群聊 'Team' 的申请"
    )


def test_type_4_invited_goes_to_each_invitee(world, make_user):
    a, b = make_user(), make_user()
    services.group_invite(user=world.member, group_id=world.group.id, user_ids=[a.id, b.id])
    m = world.member.id
    assert by_type(world, 4) == {(a.id, 4, m, a.id), (b.id, 4, m, b.id)}


def test_type_5_member_left_goes_to_owner_and_admins(world):
    services.group_leave(user=world.admin, group_id=world.group.id)
    a = world.admin.id
    assert by_type(world, 5) == {(world.owner.id, 5, a, a)}  # the leaver is gone


def test_type_6_kicked_goes_to_the_target(world):
    services.group_kick(user=world.admin, group_id=world.group.id, target_user_id=world.member.id)
    assert by_type(world, 6) == {(world.member.id, 6, world.admin.id, world.member.id)}


def test_type_7_role_changed_goes_to_the_target_once(world):
    for _ in range(2):  # the second call changes nothing and notifies nobody
        services.group_member_set_role(
            user=world.owner, group_id=world.group.id, target_user_id=world.member.id, role=1
        )
    assert by_type(world, 7) == {(world.member.id, 7, world.owner.id, world.member.id)}
    assert GroupNotification.objects.count() == 1


def test_type_8_ownership_transferred_goes_to_the_new_owner(world):
    services.group_transfer(user=world.owner, group_id=world.group.id, new_owner_id=world.admin.id)
    assert by_type(world, 8) == {(world.admin.id, 8, world.owner.id, world.admin.id)}
    assert GroupNotification.objects.get().message == "您已被 'Olivia' 设置为群聊 'Team' 的新群主"


def test_type_9_mute_and_unmute_go_to_the_target(world):
    for duration in (7200, 0):
        services.group_member_mute(
            user=world.owner,
            group_id=world.group.id,
            target_user_id=world.member.id,
            duration=duration,
        )
    messages = list(GroupNotification.objects.order_by("id").values_list("message", flat=True))
    assert by_type(world, 9) == {(world.member.id, 9, world.owner.id, world.member.id)}
    assert messages == [
        "你已被 'Olivia' 在群聊 'Team' 中禁言 2 小时",
        "'Olivia' 解除了你在群聊 'Team' 中的禁言",
    ]


def test_type_10_dismissed_goes_to_every_member(world):
    services.group_dismiss(user=world.owner, group_id=world.group.id)
    o = world.owner.id
    assert by_type(world, 10) == {
        (world.owner.id, 10, o, None),
        (world.admin.id, 10, o, None),
        (world.member.id, 10, o, None),
    }


def test_type_11_updated_goes_to_every_member_only_on_change(world):
    services.group_update_info(user=world.admin, group_id=world.group.id, name="Team")
    assert GroupNotification.objects.count() == 0
    services.group_update_info(user=world.admin, group_id=world.group.id, description="new")
    assert {row[0] for row in by_type(world, 11)} == {
        world.owner.id,
        world.admin.id,
        world.member.id,
    }


def test_messages_use_the_default_language_whoever_acts(world, client_for):
    client_for(world.owner).post(
        "/group/kick",
        {"group_id": world.group.id, "user_id": world.member.id},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert GroupNotification.objects.get().message == "你已被 'Olivia' 移出群聊 'Team'"


def test_notifications_are_pushed_after_commit(
    world, as_user, push_recorder, django_capture_on_commit_callbacks
):
    push_recorder.listen(world.owner.id, world.admin.id, world.member.id)
    with django_capture_on_commit_callbacks(execute=True):
        as_user(world.outsider)("post", "/group/join", {"group_id": world.group.id, "reason": "r"})
    for user in (world.owner, world.admin):
        events = push_recorder.events(user.id)
        assert [event["type"] for event in events] == ["group_notification"]
        data = events[0]["data"]
        assert set(data) == NOTIFICATION_FIELDS
        row = GroupNotification.objects.get(recipient=user)
        assert (data["id"], data["type"], data["is_read"]) == (row.id, 1, False)
        assert data["operator_nickname"] == "Otto" and data["target_user_id"] == world.outsider.id
    assert push_recorder.events(world.member.id) == []


def test_a_refused_action_pushes_nothing(
    world, as_user, push_recorder, django_capture_on_commit_callbacks
):
    push_recorder.listen(world.member.id)
    with django_capture_on_commit_callbacks(execute=True):
        body = {"group_id": world.group.id, "user_id": world.owner.id}
        assert as_user(world.admin)("post", "/group/kick", body)["code"] == 40003
    assert push_recorder.events(world.member.id) == []
    assert GroupNotification.objects.count() == 0


# --- 6.3 -----------------------------------------------------------------------------------


def test_group_notifications_list_newest_first_and_marks_read(world, as_user):
    for duration in (60, 120, 0):
        services.group_member_mute(
            user=world.owner,
            group_id=world.group.id,
            target_user_id=world.member.id,
            duration=duration,
        )
    ask = as_user(world.member)
    data = ask("get", "/notification/group/notifications")["data"]
    assert data["total"] == 3
    ids = [n["id"] for n in data["notifications"]]
    assert ids == sorted(ids, reverse=True)
    first = data["notifications"][0]
    assert set(first) == NOTIFICATION_FIELDS
    assert first["is_read"] is False and isinstance(first["timestamp"], int)
    assert (first["operator_nickname"], first["target_user_nickname"]) == ("Olivia", "Mia")
    again = ask("get", "/notification/group/notifications")["data"]
    assert [n["is_read"] for n in again["notifications"]] == [True, True, True]
    assert as_user(world.owner)("get", "/notification/group/notifications")["data"] == {
        "notifications": [],
        "total": 0,
    }


def test_group_notifications_page_marks_only_what_was_shown(world, as_user):
    for duration in (60, 120, 180):
        services.group_member_mute(
            user=world.owner,
            group_id=world.group.id,
            target_user_id=world.member.id,
            duration=duration,
        )
    ask = as_user(world.member)
    page = ask("get", "/notification/group/notifications", {"page": 1, "page_size": 2})["data"]
    assert len(page["notifications"]) == 2 and page["total"] == 3
    assert GroupNotification.objects.filter(is_read=False).count() == 1
    bad = ask("get", "/notification/group/notifications", {"page_size": 501})
    assert bad["code"] == 40000 and "page_size" in bad["message"]


def test_dismissed_group_notifications_stay_listed(world, as_user):
    services.group_dismiss(user=world.owner, group_id=world.group.id)
    data = as_user(world.member)("get", "/notification/group/notifications")["data"]
    assert [n["type"] for n in data["notifications"]] == [10]


# --- 6.4 and 6.5 ---------------------------------------------------------------------------


def unread(as_user, user) -> int:
    return as_user(user)("get", "/notification/request/group/unread-count")["data"][
        "total_unread_count"
    ]


def test_applications_list_for_owner_and_admins_only(world, make_user, as_user):
    late = make_user(nickname="Late")
    first = services.group_join_apply(user=world.outsider, group_id=world.group.id, reason="1")
    second = services.group_join_apply(user=late, group_id=world.group.id, reason="2")
    data = as_user(world.admin)("get", "/notification/request/group")["data"]
    assert [a["id"] for a in data["applications"]] == [second.id, first.id]
    assert data["total"] == 2 and set(data["applications"][0]) == APPLICATION_FIELDS
    assert data["applications"][0]["user_nickname"] == "Late"
    assert data["applications"][0]["group_name"] == "Team"
    assert as_user(world.member)("get", "/notification/request/group")["data"] == {
        "applications": [],
        "total": 0,
    }
    # a renewed application moves to the top
    services.group_join_apply(user=world.outsider, group_id=world.group.id, reason="again")
    data = as_user(world.admin)("get", "/notification/request/group")["data"]
    assert [a["id"] for a in data["applications"]] == [first.id, second.id]
    assert data["applications"][0]["reason"] == "again"


def test_handled_and_dismissed_applications_are_not_listed(world, make_user, as_user):
    application = services.group_join_apply(user=world.outsider, group_id=world.group.id)
    services.group_application_handle(
        user=world.owner, application_id=application.id, approve=False
    )
    assert as_user(world.owner)("get", "/notification/request/group")["data"]["total"] == 0
    services.group_join_apply(user=make_user(), group_id=world.group.id)
    services.group_dismiss(user=world.owner, group_id=world.group.id)
    assert as_user(world.owner)("get", "/notification/request/group")["data"]["total"] == 0
    assert unread(as_user, world.owner) == 0


def test_unread_count_counts_arrivals_since_my_last_listing(world, make_user, as_user):
    assert unread(as_user, world.owner) == 0
    services.group_join_apply(user=world.outsider, group_id=world.group.id)
    other = make_user()
    services.group_join_apply(user=other, group_id=world.group.id)
    assert unread(as_user, world.owner) == 2 and unread(as_user, world.admin) == 2
    assert unread(as_user, world.member) == 0

    as_user(world.owner)("get", "/notification/request/group")
    assert unread(as_user, world.owner) == 0
    assert unread(as_user, world.admin) == 2  # every manager keeps their own marker

    # a renewal arrives again, once; a new applicant too
    services.group_join_apply(user=world.outsider, group_id=world.group.id, reason="again")
    services.group_join_apply(user=world.outsider, group_id=world.group.id, reason="again!")
    assert unread(as_user, world.owner) == 1
    services.group_join_apply(user=make_user(), group_id=world.group.id)
    assert unread(as_user, world.owner) == 2
    assert unread(as_user, world.admin) == 3


def test_unread_count_is_precise_within_one_second(world, make_user, as_user, monkeypatch):
    """Listing and an arrival in the same second: the arrival still counts, exactly once."""
    from django.utils import timezone

    frozen = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: frozen)
    services.group_join_apply(user=world.outsider, group_id=world.group.id)
    as_user(world.owner)("get", "/notification/request/group")
    services.group_join_apply(user=make_user(), group_id=world.group.id)
    assert unread(as_user, world.owner) == 1
    as_user(world.owner)("get", "/notification/request/group")
    assert unread(as_user, world.owner) == 0


def test_unread_count_for_a_new_admin_counts_pending(world, as_user):
    services.group_join_apply(user=world.outsider, group_id=world.group.id)
    services.group_member_set_role(
        user=world.owner, group_id=world.group.id, target_user_id=world.member.id, role=1
    )
    assert unread(as_user, world.member) == 1
    services.group_member_set_role(
        user=world.owner, group_id=world.group.id, target_user_id=world.member.id, role=0
    )
    assert unread(as_user, world.member) == 0


def test_applications_across_groups(world, make_user, as_user):
    second = services.group_create(owner=world.admin, name="Second")
    services.group_join_apply(user=world.outsider, group_id=world.group.id)
    services.group_join_apply(user=world.outsider, group_id=second.id)
    assert unread(as_user, world.admin) == 2
    data = as_user(world.admin)("get", "/notification/request/group")["data"]
    assert {a["group_id"] for a in data["applications"]} == {world.group.id, second.id}
    assert unread(as_user, world.admin) == 0
    assert unread(as_user, world.owner) == 1
    assert GroupApplication.objects.count() == 2
