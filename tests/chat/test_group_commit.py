"""Group commit: concurrent sends share a transaction, and a failed batch falls back to one
transaction per send (chat/group_commit.py, chat/store.py)."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from chat import permissions, services, store
from chat.group_commit import BatchFailed
from chat.models import ChatType, Conversation, ConversationMember, Message
from imserver.api.errors import AppError
from tests.chat.batches import ObservedGroupCommit, observe_send_batches
from tests.chat.conftest import pending_send
from tests.support.threads import start_thread, wait_for


# --- the batching itself ---------------------------------------------------------------------
def test_sends_that_queue_behind_a_batch_form_the_next_one():
    release = threading.Event()
    batches: list[list[int]] = []

    def run_batch(items: list[int]) -> None:
        batches.append(items)
        if items == [0]:
            release.wait(10)

    commits = ObservedGroupCommit(run_batch)
    first, first_outcome = start_thread(lambda: commits.submit(0))
    wait_for(lambda: batches == [[0]])
    others = [start_thread(lambda n=n: commits.submit(n)) for n in range(1, 6)]
    wait_for(lambda: commits.waiting() == 5)
    release.set()
    for thread, outcome in [(first, first_outcome), *others]:
        thread.join(10)
        assert outcome == {"result": None}
    assert batches[0] == [0] and sorted(batches[1]) == [1, 2, 3, 4, 5] and len(batches) == 2
    assert commits.largest_batch == 5


def test_a_failed_batch_asks_each_item_to_retry_and_a_lone_failure_is_raised():
    release = threading.Event()

    def run_batch(items: list[int]) -> None:
        if items == [0]:
            release.wait(10)
        raise ValueError(f"refused {items}")

    commits = ObservedGroupCommit(run_batch)
    first, first_outcome = start_thread(lambda: commits.submit(0))
    wait_for(lambda: commits._leading)
    others = [start_thread(lambda n=n: commits.submit(n)) for n in (1, 2)]
    wait_for(lambda: commits.waiting() == 2)
    release.set()
    for thread, _outcome in [(first, first_outcome), *others]:
        thread.join(10)
    assert str(first_outcome["error"]) == "refused [0]"
    assert all(isinstance(outcome["error"], BatchFailed) for _thread, outcome in others)
    with pytest.raises(ValueError, match=r"refused \[7\]"):
        commits.submit(7)  # nothing else queued: it runs at once, alone


# --- one batch through the store -------------------------------------------------------------


def _target(sender: User, chat_type: int, target_id: int) -> permissions.SendTarget:
    return permissions.send_target(sender=sender, chat_type=chat_type, target_id=target_id)


@pytest.mark.django_db
def test_one_batch_stores_sends_to_several_conversations_in_order(actor, befriend, make_group):
    alice, bob, carol = actor("alice"), actor("bob"), actor("carol")
    befriend(alice, bob)
    befriend(alice, carol)
    group_id = make_group(alice, bob)
    alice.send_to_user(bob, "before the batch")  # the private chat exists, at seq 1
    to_bob, to_alice = _target(alice.user, 0, bob.id), _target(bob.user, 0, alice.id)
    to_carol, to_group = _target(alice.user, 0, carol.id), _target(alice.user, 1, group_id)
    sends = [
        pending_send(alice.user, to_bob, "a1"),
        pending_send(bob.user, to_alice, "b1"),
        pending_send(alice.user, to_carol, "first to carol"),  # creates that conversation
        pending_send(alice.user, to_group, "g1"),
        pending_send(alice.user, to_bob, "a2"),
        pending_send(bob.user, to_group, "g2"),
    ]
    with transaction.atomic():
        store.store_sends(sends, now=timezone.now())

    seqs = [send.message.seq for send in sends]
    assert seqs == [2, 3, 1, 1, 4, 2]
    for send in sends:
        stored = Message.objects.get(pk=send.message.pk)
        assert (stored.content, stored.seq) == (send.message.content, send.message.seq)
    private = Conversation.objects.get(pk=sends[0].message.conversation_id)
    assert (private.last_seq, private.last_message.content) == (4, "a2")
    group = Conversation.objects.get(group_id=group_id)
    assert (group.last_seq, group.last_message.content) == (2, "g2")
    with_carol = Conversation.objects.get(pk=sends[2].message.conversation_id)
    assert (with_carol.last_seq, with_carol.last_message.content) == (1, "first to carol")

    def read_seq(actor_, conversation: Conversation) -> int:
        return ConversationMember.objects.get(user=actor_.user, conversation=conversation).read_seq

    assert read_seq(alice, private) == 4 and read_seq(bob, private) == 3
    assert read_seq(alice, with_carol) == 1 and read_seq(carol, with_carol) == 0
    assert read_seq(alice, group) == 1 and read_seq(bob, group) == 2
    assert sorted(sends[3].recipients) == sorted([alice.id, bob.id])
    assert sorted(sends[0].recipients) == sorted([alice.id, bob.id])


@pytest.mark.django_db
def test_a_batch_with_a_taken_client_msg_id_stores_nothing(actor, befriend):
    alice, bob = actor("alice"), actor("bob")
    befriend(alice, bob)
    alice.send_to_user(bob, "first", client_msg_id="c-1")
    target = _target(alice.user, 0, bob.id)
    sends = [
        pending_send(alice.user, target, "new"),
        pending_send(alice.user, target, "again", "c-1"),
    ]
    with pytest.raises(store.AlreadySent), transaction.atomic():
        store.store_sends(sends, now=timezone.now())
    assert list(Message.objects.values_list("content", flat=True)) == ["first"]
    assert Conversation.objects.get().last_seq == 1


# --- concurrent senders on PostgreSQL --------------------------------------------------------
@contextmanager
def conversation_locked(conversation_id: int) -> Iterator[None]:
    """Hold the conversation's row lock from another connection until the block ends, so the
    first send's batch waits and the sends started meanwhile queue for the next one."""
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        with transaction.atomic():
            Conversation.objects.select_for_update().get(pk=conversation_id)
            locked.set()
            release.wait(30)

    thread, _outcome = start_thread(hold)
    assert locked.wait(10)
    try:
        yield
    finally:
        release.set()
        thread.join(10)


def _send_to_group(sender_id: int, group_id: int, content: str, cmid: str | None) -> Message:
    """A text message sent through the service, by a freshly read sender (one per thread)."""
    return services.message_send(
        sender=User.objects.get(pk=sender_id),
        chat_type=ChatType.GROUP,
        target_id=group_id,
        type=0,
        content=content,
        client_msg_id=cmid,
    )


def _send_concurrently(
    actor, make_group, batches: ObservedGroupCommit, contents: list[tuple[int, str, str | None]]
):
    """Members of one group send ``(member index, content, client_msg_id)`` at the same time
    while the group's conversation is locked; returns the messages and the largest batch."""
    members = [actor(f"member{n}") for n in range(len(contents))]
    group_id = make_group(*members)
    first = members[0].send_to_group(group_id, "first", client_msg_id="taken")
    conversation_id = Conversation.objects.get(group_id=group_id).pk

    def send(index: int, content: str, cmid: str | None) -> Message:
        return _send_to_group(members[index].id, group_id, content, cmid)

    with conversation_locked(conversation_id):
        started = [start_thread(lambda: send(*contents[0]))]  # leads a batch of one, which waits
        wait_for(lambda: batches.largest_batch == 1)
        started += [start_thread(lambda args=args: send(*args)) for args in contents[1:]]
        wait_for(lambda: batches.waiting() == len(contents) - 1)
    for thread, _outcome in started:
        thread.join(30)
    assert all("error" not in outcome for _thread, outcome in started), started
    return first, [outcome["result"] for _thread, outcome in started], group_id


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
def test_sends_waiting_on_a_commit_are_stored_together_without_gaps(actor, make_group, monkeypatch):
    batches = observe_send_batches(monkeypatch)
    contents = [(n, f"m{n}", None) for n in range(7)]
    _first, messages, group_id = _send_concurrently(actor, make_group, batches, contents)
    assert batches.largest_batch == 6
    assert sorted(message.seq for message in messages) == list(range(2, 9))
    conversation = Conversation.objects.get(group_id=group_id)
    assert conversation.last_seq == 8
    assert conversation.last_message.seq == 8
    for message in messages:
        assert Message.objects.get(pk=message.pk).seq == message.seq
        member = ConversationMember.objects.get(
            user_id=message.sender_id, conversation=conversation
        )
        assert member.read_seq >= message.seq


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_batch_holding_a_repeated_client_msg_id_falls_back_to_one_send_each(
    actor, make_group, monkeypatch
):
    batches = observe_send_batches(monkeypatch)
    contents = [(n, f"m{n}", None) for n in range(6)] + [(0, "first", "taken")]
    first, messages, group_id = _send_concurrently(actor, make_group, batches, contents)
    assert batches.largest_batch == 6
    retried = messages[-1]
    assert (retried.pk, retried.seq) == (first["id"], first["seq"])
    assert sorted(message.seq for message in messages[:-1]) == list(range(2, 8))
    assert Message.objects.filter(group_id=group_id).count() == 7
    assert Conversation.objects.get(group_id=group_id).last_seq == 7


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_refused_send_leaves_its_batch_stored_and_a_reused_id_is_40009(
    actor, make_group, monkeypatch
):
    batches = observe_send_batches(monkeypatch)
    members = [actor(f"member{n}") for n in range(6)]
    outsider = actor("outsider")
    group_id = make_group(*members)
    members[0].send_to_group(group_id, "first", client_msg_id="taken")
    conversation_id = Conversation.objects.get(group_id=group_id).pk

    def send(sender, content: str, cmid: str | None = None) -> Message:
        return _send_to_group(sender.id, group_id, content, cmid)

    with conversation_locked(conversation_id):
        leader = start_thread(lambda: send(members[1], "leads"))
        wait_for(lambda: batches.largest_batch == 1)
        batch = [start_thread(lambda m=m: send(m, f"from {m.id}")) for m in members[2:]]
        batch.append(start_thread(lambda: send(outsider, "not a member")))
        wait_for(lambda: batches.waiting() == len(batch))
    for thread, _outcome in [leader, *batch]:
        thread.join(30)
    assert batches.largest_batch == len(batch)  # no fallback: one transaction
    refused = batch[-1][1]["error"]
    assert refused.error_code == 40003
    stored = [outcome["result"] for _thread, outcome in [leader, *batch[:-1]]]
    assert sorted(message.seq for message in stored) == list(range(2, 7))
    assert not Message.objects.filter(sender_id=outsider.id).exists()

    # A reused id with other content in a batch: the batch falls back, that send is 40009.
    with conversation_locked(conversation_id):
        leader = start_thread(lambda: send(members[1], "leads again"))
        wait_for(lambda: batches.waiting() == 0)
        time.sleep(0.05)
        batch = [start_thread(lambda m=m: send(m, f"again from {m.id}")) for m in members[2:]]
        batch.append(start_thread(lambda: send(members[0], "not the first", "taken")))
        wait_for(lambda: batches.waiting() == len(batch))
    for thread, _outcome in [leader, *batch]:
        thread.join(30)
    assert batch[-1][1]["error"].error_code == 40009
    stored = [outcome["result"] for _thread, outcome in [leader, *batch[:-1]]]
    assert sorted(message.seq for message in stored) == list(range(7, 12))
    assert Conversation.objects.get(pk=conversation_id).last_seq == 11


# --- one sender's several sends (a socket's pipelined frames) ---------------------------------
def _request(group_id: int, content: str, cmid: str | None = None) -> services.SendRequest:
    return services.SendRequest(
        chat_type=ChatType.GROUP, target_id=group_id, type=0, content=content, client_msg_id=cmid
    )


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
def test_one_senders_sends_go_into_one_batch_in_order(actor, make_group, monkeypatch):
    batches = observe_send_batches(monkeypatch)
    alice, bob = actor("alice"), actor("bob")
    group_id = make_group(alice, bob)
    requests = [_request(group_id, f"m{n}", f"c{n}") for n in range(5)]
    requests.insert(2, _request(group_id, ""))  # refused before the batch: 40000
    outcomes = services.message_send_many(sender=alice.user, requests=requests)

    assert batches.largest_batch == 5  # the others: one transaction
    refused = outcomes.pop(2)
    assert isinstance(refused, AppError) and refused.error_code == 40000
    assert [(m.content, m.seq) for m in outcomes] == [(f"m{n}", n + 1) for n in range(5)]
    stored = Message.objects.filter(group_id=group_id).order_by("seq")
    assert [m.content for m in stored] == [f"m{n}" for n in range(5)]


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_repeated_client_msg_id_among_one_senders_sends_is_a_retry(
    actor, make_group, monkeypatch
):
    """The batch fails on the repeated id and each send is stored on its own, in order: the
    repeat returns the first message, the same id with other content is 40009."""
    batches = observe_send_batches(monkeypatch)
    alice, bob = actor("alice"), actor("bob")
    group_id = make_group(alice, bob)
    requests = [
        _request(group_id, "a", "c-a"),
        _request(group_id, "b", "c-b"),
        _request(group_id, "b", "c-b"),
        _request(group_id, "other", "c-a"),
        _request(group_id, "d"),
    ]
    first_a, first_b, again_b, conflict, d = services.message_send_many(
        sender=alice.user, requests=requests
    )

    assert batches.largest_batch == 5  # the batch that failed
    assert again_b.pk == first_b.pk
    assert isinstance(conflict, AppError) and conflict.error_code == 40009
    assert [first_a.seq, first_b.seq, d.seq] == [1, 2, 3]
    assert Message.objects.filter(group_id=group_id).count() == 3
