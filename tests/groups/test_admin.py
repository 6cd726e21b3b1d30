"""Admin pages for groups, members, applications and notifications; the dismiss action."""

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType

from accounts.models import User
from groups import services
from groups.models import Group, GroupMember
from notifications.models import GroupNotification

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/admin/groups/group/",
        "/admin/groups/groupmember/",
        "/admin/groups/groupapplication/",
        "/admin/notifications/groupnotification/",
    ],
)
def test_changelists_render_and_search(world, staff_client, url):
    services.group_join_apply(user=world.outsider, group_id=world.group.id, reason="hi")
    assert staff_client.get(url).status_code == 200
    assert staff_client.get(url, {"q": "Team"}).status_code == 200


def test_change_pages_render(world, staff_client):
    application = services.group_join_apply(user=world.outsider, group_id=world.group.id)
    member = world.group.memberships.first()
    for url in (
        f"/admin/groups/group/{world.group.id}/change/",
        f"/admin/groups/groupmember/{member.id}/change/",
        f"/admin/groups/groupapplication/{application.id}/change/",
    ):
        assert staff_client.get(url).status_code == 200


def test_dismiss_action_calls_the_service_and_notifies_members(
    world, staff_client, push_recorder, django_capture_on_commit_callbacks
):
    push_recorder.listen(world.member.id)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            "/admin/groups/group/",
            {"action": "dismiss_groups", "_selected_action": [world.group.id]},
        )
    assert response.status_code == 302
    world.group.refresh_from_db()
    assert world.group.status == Group.Status.DISMISSED
    recipients = set(
        GroupNotification.objects.filter(type=10).values_list("recipient_id", flat=True)
    )
    assert recipients == {world.owner.id, world.admin.id, world.member.id}
    assert [e["data"]["type"] for e in push_recorder.events(world.member.id)] == [10]
    # dismissing again changes nothing and notifies nobody
    staff_client.post(
        "/admin/groups/group/",
        {"action": "dismiss_groups", "_selected_action": [world.group.id]},
    )
    assert GroupNotification.objects.filter(type=10).count() == 3


def test_dismiss_leaves_an_admin_log_entry_naming_the_staff_member(world, staff_client):
    url = "/admin/groups/group/"
    for _ in range(2):  # the second dismiss changes nothing and logs nothing
        staff_client.post(url, {"action": "dismiss_groups", "_selected_action": [world.group.id]})
    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Group), object_id=str(world.group.id)
    )
    assert [(e.user.username, e.action_flag, e.change_message) for e in entries] == [
        ("staff", CHANGE, "解散")
    ]


def _change_form_data(client, url: str, **changes) -> dict:
    """What the change page at ``url`` posts back unchanged (its form's and inline forms'
    values as rendered, and the inlines' management forms), with ``changes`` applied."""
    context = client.get(url).context

    def values(form) -> dict[str, str]:
        rendered = {name: form[name].value() for name in form.fields}
        return {
            form.add_prefix(name): "" if value is None else str(getattr(value, "pk", value))
            for name, value in rendered.items()
        }

    data = values(context["adminform"].form)
    for inline in context["inline_admin_formsets"]:
        data.update(values(inline.formset.management_form))
        for form in inline.formset.forms:
            data.update(values(form))
    return {**data, **{name: str(value) for name, value in changes.items()}}


def _staff_change(staff_client, url: str, **changes) -> None:
    response = staff_client.post(url, _change_form_data(staff_client, url, **changes))
    assert response.status_code == 302, response.context["adminform"].form.errors


def test_a_mute_through_the_member_page_is_the_mute_service_with_staff_as_operator(
    world, staff_client, push_recorder, django_capture_on_commit_callbacks
):
    member = GroupMember.objects.get(group=world.group, user=world.member)
    url = f"/admin/groups/groupmember/{member.id}/change/"
    push_recorder.listen(world.member.id)
    with django_capture_on_commit_callbacks(execute=True):
        _staff_change(staff_client, url, mute_for=3600)
    member.refresh_from_db()
    assert 3590 < member.mute_remaining_seconds() <= 3600
    staff = User.objects.get(username="staff")
    notification = GroupNotification.objects.get(recipient=world.member)
    assert (notification.type, notification.operator_id, notification.target_user_id) == (
        GroupNotification.Type.MUTE_CHANGED,
        staff.id,
        world.member.id,
    )
    pushes = push_recorder.events(world.member.id)
    assert [(p["type"], p["data"]["id"], p["data"]["type"]) for p in pushes] == [
        ("group_notification", notification.id, GroupNotification.Type.MUTE_CHANGED)
    ]

    # The same row and push as the members' own mute, but for the operator and the time.
    with django_capture_on_commit_callbacks(execute=True):
        services.group_member_mute(
            user=world.owner, group_id=world.group.id, target_user_id=world.member.id, duration=3600
        )
    by_owner = GroupNotification.objects.filter(recipient=world.member).latest("id")
    assert "staff" in notification.message and "Olivia" in by_owner.message
    assert notification.message.replace("staff", "Olivia") == by_owner.message
    owner_pushes = push_recorder.events(world.member.id)
    assert [p["data"]["id"] for p in owner_pushes] == [by_owner.id]
    assert set(owner_pushes[0]["data"]) == set(pushes[0]["data"])

    # 0 unmutes; the owner too can be muted by staff; a nickname change alone tells nobody.
    _staff_change(staff_client, url, mute_for=0)
    member.refresh_from_db()
    assert member.muted_until is None
    owner = GroupMember.objects.get(group=world.group, user=world.owner)
    _staff_change(staff_client, f"/admin/groups/groupmember/{owner.id}/change/", mute_for=60)
    owner.refresh_from_db()
    assert owner.mute_remaining_seconds() > 0
    before = GroupNotification.objects.count()
    _staff_change(staff_client, url, nickname="Mimi")
    member.refresh_from_db()
    assert member.nickname == "Mimi" and member.muted_until is None
    assert GroupNotification.objects.count() == before


def test_the_member_page_refuses_a_mute_beyond_the_service_bound(world, staff_client):
    member = GroupMember.objects.get(group=world.group, user=world.member)
    url = f"/admin/groups/groupmember/{member.id}/change/"
    data = _change_form_data(staff_client, url, mute_for=services.MAX_MUTE_SECONDS + 1)
    assert staff_client.post(url, data).status_code == 200  # the form shows the error
    member.refresh_from_db()
    assert member.muted_until is None


def test_group_info_through_the_group_page_tells_every_member(
    world, staff_client, push_recorder, django_capture_on_commit_callbacks
):
    url = f"/admin/groups/group/{world.group.id}/change/"
    push_recorder.listen(world.member.id)
    with django_capture_on_commit_callbacks(execute=True):
        _staff_change(staff_client, url, name="Renamed")
    world.group.refresh_from_db()
    assert world.group.name == "Renamed"
    updated = GroupNotification.objects.filter(type=GroupNotification.Type.GROUP_UPDATED)
    assert set(updated.values_list("recipient_id", flat=True)) == {
        world.owner.id,
        world.admin.id,
        world.member.id,
    }
    assert {row.operator.username for row in updated} == {"staff"}
    pushes = push_recorder.events(world.member.id)
    assert [p["data"]["type"] for p in pushes] == [GroupNotification.Type.GROUP_UPDATED]

    # The member cap alone is written as is and tells nobody.
    _staff_change(staff_client, url, max_member_count=50)
    world.group.refresh_from_db()
    assert world.group.max_member_count == 50 and updated.count() == 3


def test_a_dismissed_group_takes_no_info_or_mute_changes_from_staff(world, staff_client):
    services.group_dismiss(user=world.owner, group_id=world.group.id)
    member = GroupMember.objects.get(group=world.group, user=world.member)
    form = (
        staff_client.get(f"/admin/groups/groupmember/{member.id}/change/").context["adminform"].form
    )
    assert "mute_for" not in form.fields
    _staff_change(staff_client, f"/admin/groups/group/{world.group.id}/change/", name="Renamed")
    world.group.refresh_from_db()
    assert world.group.name == "Team"
