"""Admin pages for groups, members, applications and notifications; the dismiss action."""

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType

from groups import services
from groups.models import Group
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
