"""Messages are never deleted along with a user, a group or a conversation (their ``seq`` would
leave a gap in everyone else's history): such a deletion is refused with ``ProtectedError``."""

import pytest
from django.db.models import ProtectedError

from accounts.models import User
from chat.models import Conversation, Message
from groups.models import Group
from tests.chat.conftest import ok

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(actor, befriend, make_group) -> dict[str, object]:
    alice, bob, carol = actor("alice"), actor("bob"), actor("carol")
    befriend(alice, bob)
    group_id = make_group(alice, carol)
    alice.send_to_user(bob, "one")
    bob.send_to_user(alice, "two")
    carol.send_to_group(group_id, "three")
    return {"alice": alice, "bob": bob, "carol": carol, "group_id": group_id}


def _untouched() -> None:
    assert sorted(Message.objects.values_list("content", flat=True)) == ["one", "three", "two"]
    assert Conversation.objects.count() == 2


@pytest.mark.parametrize("who", ["alice", "bob", "carol"])
def test_deleting_a_user_with_messages_is_refused(history, who):
    user = User.objects.get(pk=history[who].id)
    with pytest.raises(ProtectedError):
        user.delete()
    assert User.objects.filter(pk=user.pk).exists()
    _untouched()


def test_deleting_a_group_or_conversation_with_messages_is_refused(history):
    with pytest.raises(ProtectedError):
        Group.objects.get(pk=history["group_id"]).delete()
    with pytest.raises(ProtectedError):
        Conversation.objects.filter(type=0).delete()
    assert Group.objects.filter(pk=history["group_id"]).exists()
    _untouched()


def test_a_user_without_messages_can_still_be_deleted(history, actor, befriend):
    """Friendships, group memberships and an empty (pinned) conversation go with the user."""
    alice, group_id = history["alice"], history["group_id"]
    dave = actor("dave")
    befriend(alice, dave)
    ok(alice.post("/group/invite", {"group_id": group_id, "user_ids": [dave.id]}))
    ok(
        alice.post(
            "/chat/conversation/pin", {"target_id": dave.id, "chat_type": 0, "is_pinned": True}
        )
    )
    User.objects.get(pk=dave.id).delete()
    assert not User.objects.filter(pk=dave.id).exists()
    _untouched()
    assert alice.history(group_id, 1)["messages"][-1]["content"] == "three"
