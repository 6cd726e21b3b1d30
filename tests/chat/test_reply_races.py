"""A reply racing a recall of the message it quotes, on PostgreSQL with real threads: the send
locks the quoted row (chat/store.py ``_lock_quotes``), so the reply is stored and pushed either
before the recall (which then waits for it) or after it, quoting it recalled."""

import threading

import pytest
from django.db import transaction

from accounts.models import User
from chat import services
from chat.models import ChatType, Message
from chat.presenters import message_data
from tests.chat.test_send_races import _held_open, _lock_waiters
from tests.support.threads import start_thread, wait_for

pytestmark = [pytest.mark.requires_postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def pair(actor, befriend):
    a, b = actor("alice"), actor("bob")
    befriend(a, b)
    return a, b


def _reply(sender_id: int, peer_id: int, quoted_id: int) -> Message:
    return services.message_send(
        sender=User.objects.get(pk=sender_id),
        chat_type=ChatType.PRIVATE,
        target_id=peer_id,
        type=0,
        content="re",
        reply_to=quoted_id,
    )


def _recall(user_id: int, message_id: int) -> Message:
    return services.message_recall(user=User.objects.get(pk=user_id), message_id=message_id)


def test_a_reply_sent_while_a_recall_commits_quotes_it_recalled(pair):
    a, b = pair
    original = a.send_to_user(b, "oops")
    with _held_open(lambda: _recall(a.id, original["id"])):
        thread, outcome = start_thread(lambda: _reply(b.id, a.id, original["id"]))
        wait_for(lambda: _lock_waiters() >= 1)
    thread.join(30)
    reply = outcome["result"]
    assert (reply.reply_to.status, reply.reply_to.is_recalled) == (2, True)
    assert message_data(reply)["reply_to"]["content"] == ""


def test_a_recall_waits_for_a_reply_being_stored(pair):
    a, b = pair
    original = a.send_to_user(b, "oops")
    with _held_open(lambda: _reply(b.id, a.id, original["id"])) as outcome:
        thread, recall = start_thread(lambda: _recall(a.id, original["id"]))
        wait_for(lambda: _lock_waiters() >= 1)
        assert "result" not in recall
    thread.join(30)
    assert recall["result"].is_recalled
    assert outcome["result"].reply_to.status == Message.Status.NORMAL


def _race(a, b) -> tuple[Message, int]:
    """A reply and a recall of the same message started together: ``(the reply, the highest
    message id once the recall committed)``."""
    original = a.send_to_user(b, "oops")
    start = threading.Barrier(2)

    def recall() -> int:
        start.wait(5)
        with transaction.atomic():
            _recall(a.id, original["id"])
        return Message.objects.order_by("-pk").values_list("pk", flat=True)[0]

    def reply() -> Message:
        start.wait(5)
        return _reply(b.id, a.id, original["id"])

    recall_thread, recall_outcome = start_thread(recall)
    reply_thread, reply_outcome = start_thread(reply)
    recall_thread.join(30)
    reply_thread.join(30)
    return reply_outcome["result"], recall_outcome["result"]


def test_replies_racing_a_recall_quote_it_recalled_once_it_committed(pair):
    """A reply quotes the message as normal only if it locked the quote first, and then the
    recall waited for the reply's commit: the reply's id is below the highest id seen once the
    recall committed. History shows the quote recalled either way."""
    a, b = pair
    for _round in range(10):
        message, highest_after_recall = _race(a, b)
        if message.reply_to.status == Message.Status.NORMAL:
            assert message.pk <= highest_after_recall
        stored = Message.objects.select_related("reply_to").get(pk=message.pk)
        assert stored.reply_to.is_recalled
