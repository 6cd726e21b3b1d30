"""A send racing a change of who may send there (kick, leave, mute, dismiss, block, unfriend), on
PostgreSQL with real threads: a send that commits after the change is refused (chat/store.py).

Three views of the same rule:
- the change holds its transaction open: a send started meanwhile waits for it, then is refused;
- a send holds its transaction open: the change waits until the message is committed;
- many sends race the change: reading the conversation's ``last_seq`` as the change's last
  statement gives ``S``; every message committed after the change would have a ``seq`` above
  ``S`` (a conversation's ``seq`` is taken in commit order under its row lock), so the sender
  who lost the right has no message above ``S``.
"""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from django.db import connection, transaction

from accounts.models import User
from chat import services
from chat.models import ChatType, Conversation, Message
from groups import services as group_services
from groups.models import GroupMember
from imserver.api.errors import AppError
from social import services as social_services
from tests.chat.batches import observe_send_batches
from tests.support.threads import start_thread, wait_for

pytestmark = [pytest.mark.requires_postgres, pytest.mark.django_db(transaction=True)]


def _fresh(user_id: int) -> User:
    return User.objects.get(pk=user_id)


def _lock_waiters() -> int:
    """Backends of this database waiting for a lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@contextmanager
def _held_open(work: Callable[[], object]) -> Iterator[dict[str, object]]:
    """Run ``work`` in a transaction of another thread that commits when the block ends."""
    done, release = threading.Event(), threading.Event()

    def hold() -> object:
        with transaction.atomic():
            result = work()
            done.set()
            release.wait(30)
        return result

    thread, outcome = start_thread(hold)
    assert done.wait(15) or "error" in outcome, outcome
    try:
        yield outcome
    finally:
        release.set()
        thread.join(30)
    assert "error" not in outcome, outcome


# --- the world --------------------------------------------------------------------------------
@pytest.fixture
def world(actor, befriend, make_group) -> dict[str, object]:
    """owner and member in a group with a message; alice and bob friends with a message."""
    owner, member, alice, bob = actor("owner"), actor("member"), actor("alice"), actor("bob")
    group_id = make_group(owner, member)
    befriend(alice, bob)
    owner.send_to_group(group_id, "hello")
    alice.send_to_user(bob, "hello")
    return {"owner": owner, "member": member, "alice": alice, "bob": bob, "group_id": group_id}


def _change(world: dict, how: str) -> tuple[Callable[[], object], Callable[[], Message]]:
    """``(the change, a send by the user who loses the right to send)``."""
    owner, member, alice, bob = (world[name] for name in ("owner", "member", "alice", "bob"))
    group_id = world["group_id"]

    def to_group() -> Message:
        return services.message_send(
            sender=_fresh(member.id),
            chat_type=ChatType.GROUP,
            target_id=group_id,
            type=0,
            content="racing",
        )

    def to_bob() -> Message:
        return services.message_send(
            sender=_fresh(alice.id),
            chat_type=ChatType.PRIVATE,
            target_id=bob.id,
            type=0,
            content="racing",
        )

    changes = {
        "kick": (
            lambda: group_services.group_kick(
                user=_fresh(owner.id), group_id=group_id, target_user_id=member.id
            ),
            to_group,
        ),
        "leave": (
            lambda: group_services.group_leave(user=_fresh(member.id), group_id=group_id),
            to_group,
        ),
        "mute": (
            lambda: group_services.group_member_mute(
                user=_fresh(owner.id), group_id=group_id, target_user_id=member.id, duration=600
            ),
            to_group,
        ),
        "dismiss": (
            lambda: group_services.group_dismiss(user=_fresh(owner.id), group_id=group_id),
            to_group,
        ),
        "block": (
            lambda: social_services.friend_block(user=_fresh(bob.id), friend_id=alice.id),
            to_bob,
        ),
        "unfriend": (
            lambda: social_services.friendship_delete(user=_fresh(bob.id), friend_id=alice.id),
            to_bob,
        ),
    }
    return changes[how]


CHANGES = ["kick", "leave", "mute", "dismiss", "block", "unfriend"]


@pytest.mark.parametrize("how", CHANGES)
def test_a_send_waiting_for_a_change_is_refused_once_it_commits(world, how):
    change, send = _change(world, how)
    before = Message.objects.count()
    with _held_open(change):
        sender, outcome = start_thread(send)
        wait_for(lambda: _lock_waiters() >= 1)  # the send waits for the change's lock
        assert outcome == {}
    sender.join(30)
    assert isinstance(outcome.get("error"), AppError), outcome
    assert outcome["error"].error_code in (40003, 40004)
    assert Message.objects.count() == before


def test_a_first_private_message_waits_for_a_block_too(actor, befriend):
    alice, bob = actor("alice"), actor("bob")
    befriend(alice, bob)  # no conversation yet

    def send() -> Message:
        return services.message_send(
            sender=_fresh(alice.id),
            chat_type=ChatType.PRIVATE,
            target_id=bob.id,
            type=0,
            content="first",
        )

    with _held_open(lambda: social_services.friend_block(user=_fresh(bob.id), friend_id=alice.id)):
        sender, outcome = start_thread(send)
        wait_for(lambda: _lock_waiters() >= 1)
        assert outcome == {}
    sender.join(30)
    assert outcome["error"].error_code == 40003
    assert not Message.objects.exists() and not Conversation.objects.exists()


@pytest.mark.parametrize("how", CHANGES)
def test_a_change_waits_for_a_send_in_progress(world, how):
    change, send = _change(world, how)
    with _held_open(send) as sent:
        changer, changed = start_thread(change)
        wait_for(lambda: _lock_waiters() >= 1)  # the change waits for the send's lock
        assert changed == {}
    changer.join(30)
    assert changed.keys() == {"result"}, changed
    message = sent["result"]
    assert Message.objects.get(pk=message.pk).content == "racing"


# --- real races ---------------------------------------------------------------------------------
def _race(
    change: Callable[[], object],
    conversation: Callable[[], Conversation],
    losing: Callable[[int], Message],
    keeping: Callable[[int], Message],
) -> tuple[int, list[Message], list[BaseException], list[Message]]:
    """Four threads of the sender who loses the right send until refused, four others keep
    sending; the change runs once the losing sender has a message through. Returns ``S``,
    the losing sender's messages and refusals, and the other messages."""
    lost: list[Message] = []
    refusals: list[BaseException] = []
    kept: list[Message] = []
    failures: list[BaseException] = []
    first_through, changed = threading.Event(), threading.Event()
    last_seq: dict[str, int] = {}

    def lose(index: int) -> None:
        for n in range(400):
            try:
                lost.append(losing(index * 1000 + n))
                first_through.set()
            except AppError as exc:
                refusals.append(exc)
                return

    def keep(index: int) -> None:
        n = 0
        while not changed.is_set() or n < 10:
            kept.append(keeping(index * 1000 + n))
            n += 1

    def run_change() -> None:
        assert first_through.wait(30)
        time.sleep(0.02)
        with transaction.atomic():
            change()
            last_seq["S"] = Conversation.objects.get(pk=conversation().pk).last_seq
        changed.set()

    def guarded(work: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                work()
            except BaseException as exc:
                failures.append(exc)
            finally:
                connection.close()

        return run

    threads = [threading.Thread(target=guarded(lambda i=i: lose(i))) for i in range(4)]
    threads += [threading.Thread(target=guarded(lambda i=i: keep(i))) for i in range(4)]
    threads.append(threading.Thread(target=guarded(run_change)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures, failures
    return last_seq["S"], lost, refusals, kept


@pytest.mark.parametrize("how", ["kick", "mute"])
def test_many_group_sends_racing_a_change(actor, make_group, how, monkeypatch):
    owner, member, *others = (actor(f"user{n}") for n in range(4))
    group_id = make_group(owner, member, *others)
    owner.send_to_group(group_id, "hello")
    batches = observe_send_batches(monkeypatch)

    def change() -> None:
        if how == "kick":
            group_services.group_kick(
                user=_fresh(owner.id), group_id=group_id, target_user_id=member.id
            )
        else:
            group_services.group_member_mute(
                user=_fresh(owner.id), group_id=group_id, target_user_id=member.id, duration=600
            )

    def sender_of(user_id: int) -> Callable[[int], Message]:
        user = _fresh(user_id)
        return lambda n: services.message_send(
            sender=user, chat_type=ChatType.GROUP, target_id=group_id, type=0, content=f"m{n}"
        )

    keepers = [sender_of(user.id) for user in [owner, *others]]
    seq, lost, refusals, kept = _race(
        change,
        lambda: Conversation.objects.get(group_id=group_id),
        sender_of(member.id),
        lambda n: keepers[n // 1000 % len(keepers)](n),
    )
    assert lost and len(refusals) == 4
    assert all(exc.error_code == 40003 for exc in refusals)
    stored = Message.objects.filter(group_id=group_id)
    assert not stored.filter(sender_id=member.id, seq__gt=seq).exists()
    assert stored.filter(seq__gt=seq).exists()  # others went on sending after the change
    seqs = sorted(stored.values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) == 1 + len(lost) + len(kept)
    assert batches.largest_batch > 1  # refusals shared batches with stored sends
    assert GroupMember.objects.filter(group_id=group_id).count() == 4 - (how == "kick")


def test_many_private_sends_racing_a_block(actor, befriend):
    alice, bob, carol = actor("alice"), actor("bob"), actor("carol")
    befriend(alice, bob)
    befriend(bob, carol)
    alice.send_to_user(bob, "hello")

    def sender_of(user_id: int, peer_id: int) -> Callable[[int], Message]:
        user = _fresh(user_id)
        return lambda n: services.message_send(
            sender=user, chat_type=ChatType.PRIVATE, target_id=peer_id, type=0, content=f"m{n}"
        )

    seq, lost, refusals, _kept = _race(
        lambda: social_services.friend_block(user=_fresh(bob.id), friend_id=alice.id),
        lambda: Message.objects.filter(sender_id=alice.id).first().conversation,
        sender_of(alice.id, bob.id),
        sender_of(carol.id, bob.id),  # another conversation of bob's goes on
    )
    assert lost and len(refusals) == 4
    assert all(exc.error_code == 40003 for exc in refusals)
    with_bob = Message.objects.filter(sender_id=alice.id, to_user_id=bob.id)
    assert not with_bob.filter(seq__gt=seq).exists()
    seqs = sorted(with_bob.values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) == 1 + len(lost)
