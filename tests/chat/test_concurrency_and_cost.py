"""Sequence numbers under real concurrent senders, idempotency races, and the cost of a send."""

import threading
from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from chat import services
from chat.models import ChatType, Message, MessageMention
from tests.chat.conftest import ok


def run_in_threads(count: int, work: Callable[[int], object]) -> list[object]:
    """Start ``count`` threads together; each runs ``work(index)`` on its own DB connection."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count
    errors: list[BaseException] = []

    def target(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_senders_get_gap_free_unique_seq(actor, make_group):
    members = [actor(f"sender{n}") for n in range(24)]
    group_id = make_group(members[0], *members[1:])
    users = [User.objects.get(pk=m.id) for m in members]
    per_thread = 5

    def work(index: int) -> list[int]:
        return [
            services.message_send(
                sender=users[index],
                chat_type=ChatType.GROUP,
                target_id=group_id,
                type=0,
                content=f"{index}-{n}",
            ).seq
            for n in range(per_thread)
        ]

    results = run_in_threads(len(users), work)
    total = len(users) * per_thread
    assert sorted(seq for seqs in results for seq in seqs) == list(range(1, total + 1))
    stored = list(Message.objects.filter(group_id=group_id).values_list("seq", flat=True))
    assert sorted(stored) == list(range(1, total + 1))
    assert {m.content for m in Message.objects.filter(group_id=group_id)} == {
        f"{i}-{n}" for i in range(len(users)) for n in range(per_thread)
    }


@pytest.fixture
def alice_sends_to_bob(actor, befriend) -> Callable[..., Message]:
    """A private text message from alice to her friend bob, through the service."""
    alice, bob = actor("alice"), actor("bob")
    befriend(alice, bob)
    sender = User.objects.get(pk=alice.id)

    def send(content: str, client_msg_id: str | None = None) -> Message:
        return services.message_send(
            sender=sender,
            chat_type=ChatType.PRIVATE,
            target_id=bob.id,
            type=0,
            content=content,
            client_msg_id=client_msg_id,
        )

    return send


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_of_one_client_msg_id_store_one_message(alice_sends_to_bob):
    ids = run_in_threads(20, lambda _index: alice_sends_to_bob("retry storm", "same-id").pk)
    assert len(set(ids)) == 1
    assert Message.objects.count() == 1
    assert Message.objects.get().seq == 1


@pytest.mark.django_db
def test_a_group_send_costs_the_same_queries_at_3_and_300_members(actor, make_user, make_group):
    def queries_for_send(member_count: int) -> int:
        owner = actor()
        group_id = make_group(owner)
        others = [make_user() for _ in range(member_count - 1)]
        ok(owner.post("/group/invite", {"group_id": group_id, "user_ids": [u.pk for u in others]}))
        owner.send_to_group(group_id, "warm-up")
        with CaptureQueriesContext(connection) as captured:
            owner.send_to_group(group_id, "counted")
        return len(captured.captured_queries)

    small, large = queries_for_send(3), queries_for_send(300)
    assert small == large
    assert small <= 12


@pytest.mark.django_db
def test_a_private_send_is_five_statements(alice_sends_to_bob):
    alice_sends_to_bob("creates the conversation")
    with CaptureQueriesContext(connection) as captured:
        alice_sends_to_bob("counted")
    statements = [
        query["sql"] for query in captured.captured_queries if "SAVEPOINT" not in query["sql"]
    ]
    # In one transaction: the claim of the seq (which also locks the row every change of the
    # permission locks), the permission check, the insert, last_message, read positions.
    assert len(statements) == 5, statements
    assert "FOR UPDATE" in statements[0] or connection.vendor == "sqlite"


@pytest.mark.django_db
def test_a_group_send_is_five_statements_whatever_the_group_size(actor, make_user, make_group):
    owner = actor()
    group_id = make_group(owner)
    others = [make_user() for _ in range(40)]
    ok(owner.post("/group/invite", {"group_id": group_id, "user_ids": [u.pk for u in others]}))
    sender = User.objects.get(pk=owner.id)

    def send(content: str) -> Message:
        return services.message_send(
            sender=sender, chat_type=ChatType.GROUP, target_id=group_id, type=0, content=content
        )

    send("warm-up")
    with CaptureQueriesContext(connection) as captured:
        message = send("counted")
    statements = [
        query["sql"] for query in captured.captured_queries if "SAVEPOINT" not in query["sql"]
    ]
    # The claim of the seq and the group's lock, the permission check that also reads the
    # members (the push's recipients), the insert, last_message, the sender's read position.
    assert len(statements) == 5, statements
    assert message.seq == 2


@pytest.mark.django_db
def test_a_repeated_client_msg_id_leaves_no_gap_in_seq(alice_sends_to_bob):
    first = alice_sends_to_bob("one", "c-1")
    assert alice_sends_to_bob("one", "c-1").pk == first.pk
    assert alice_sends_to_bob("two", "c-2").seq == first.seq + 1
    assert Message.objects.get(pk=first.pk).conversation.last_seq == first.seq + 1


@pytest.mark.django_db
def test_mentions_and_a_reply_add_statements_and_rows_only_for_what_they_describe(
    actor, make_user, make_group
):
    """CONTRACT 10: one mention row per mentioned user, never a row per member; the statements
    of a send with mentions and a reply do not grow with the group."""

    def cost(member_count: int) -> tuple[int, int]:
        owner = actor()
        group_id = make_group(owner)
        others = [make_user() for _ in range(member_count - 1)]
        ok(owner.post("/group/invite", {"group_id": group_id, "user_ids": [u.pk for u in others]}))
        quoted = owner.send_to_group(group_id, "warm-up")
        with CaptureQueriesContext(connection) as captured:
            sent = owner.send_to_group(
                group_id,
                "counted",
                reply_to=quoted["id"],
                mentions=[u.pk for u in others[:3]],
                mention_all=True,
            )
        rows = MessageMention.objects.filter(message_id=sent["id"]).count()
        return len(captured.captured_queries), rows

    small, large = cost(5), cost(60)
    assert small == large
    assert small[1] == 4  # three users and one row for everyone
