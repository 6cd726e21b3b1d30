"""Admin pages for messages and conversations; staff recall a message and both sides are told."""

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType

from chat.models import Message

pytestmark = pytest.mark.django_db


def test_staff_recall_marks_the_message_and_pushes_recall_to_both_sides(
    actor, befriend, staff_client, push_recorder, django_capture_on_commit_callbacks
):
    alice, bob = actor("alice"), actor("bob")
    befriend(alice, bob)
    sent = alice.send_to_user(bob, "something against the rules")
    push_recorder.listen(alice.id, bob.id)
    push_recorder.events(alice.id), push_recorder.events(bob.id)  # drop the message pushes

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            "/admin/chat/message/", {"action": "recall_messages", "_selected_action": [sent["id"]]}
        )
    assert response.status_code == 302
    message = Message.objects.get(pk=sent["id"])
    assert message.status == Message.Status.RECALLED and message.recalled_at is not None
    for user in (alice, bob):
        events = push_recorder.events(user.id)
        assert [e["type"] for e in events] == ["recall"], events
        assert events[0]["data"]["message_id"] == sent["id"]
        assert events[0]["data"]["seq"] == sent["seq"]

    # Recalling again changes nothing and pushes nothing.
    staff_client.post(
        "/admin/chat/message/", {"action": "recall_messages", "_selected_action": [sent["id"]]}
    )
    assert push_recorder.events(bob.id) == []
    # History shows the recall to the receiver.
    history = bob.history(alice.id, 0)
    assert [m["status"] for m in history["messages"]] == [2]


def test_message_pages_render_and_messages_cannot_be_deleted(actor, befriend, staff_client):
    alice, bob = actor("alice"), actor("bob")
    befriend(alice, bob)
    sent = alice.send_to_user(bob, "hello")
    assert staff_client.get("/admin/chat/message/", {"q": "hello"}).status_code == 200
    assert staff_client.get(f"/admin/chat/message/{sent['id']}/change/").status_code == 200
    assert staff_client.get("/admin/chat/conversation/").status_code == 200
    assert staff_client.get("/admin/chat/conversationmember/").status_code == 200
    assert staff_client.get(f"/admin/chat/message/{sent['id']}/delete/").status_code == 403
    assert Message.objects.filter(pk=sent["id"]).exists()


def test_recall_leaves_an_admin_log_entry_naming_the_staff_member(actor, befriend, staff_client):
    alice, bob = actor("alice"), actor("bob")
    befriend(alice, bob)
    sent = alice.send_to_user(bob, "against the rules")
    for _ in range(2):  # the second recall changes nothing and logs nothing
        staff_client.post(
            "/admin/chat/message/", {"action": "recall_messages", "_selected_action": [sent["id"]]}
        )
    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Message), object_id=str(sent["id"])
    )
    assert [(e.user.username, e.action_flag, e.change_message) for e in entries] == [
        ("staff", CHANGE, "撤回")
    ]
