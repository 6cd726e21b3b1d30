"""Reactions (CONTRACT 10): ``POST /chat/message/react`` and ``/chat/message/unreact``.

The rules and codes, the message's ``reactions`` summary (first-use order, the first 20 users in
reaction order, at most 10 different emoji per user), the ``reaction`` push and who gets it, and
on PostgreSQL with real threads: concurrent reactions on one message lose no count and leave
the summary equal to what the rows say.
"""

import random
import threading
import unicodedata

import pytest
from django.db import connection

from accounts.models import User
from chat import services
from chat.models import Message, Reaction
from tests.chat.conftest import Actor, ok
from tests.support.threads import start_thread

PUSH_FIELDS = {
    "message_id",
    "seq",
    "chat_type",
    "sender_id",
    "receiver_id",
    "group_id",
    "user_id",
    "emoji",
    "action",
    "count",
}


def react(who: Actor, message_id: int, emoji, *, path: str = "react"):
    return who.post(f"/chat/message/{path}", {"message_id": message_id, "emoji": emoji})


def unreact(who: Actor, message_id: int, emoji):
    return react(who, message_id, emoji, path="unreact")


def code(response) -> int:
    return response.json()["code"]


def summary(message_id: int) -> list[dict]:
    return Message.objects.get(pk=message_id).reactions


def reaction_events(recorder, user_id: int) -> list[dict]:
    return [e["data"] for e in recorder.events(user_id) if e["type"] == "reaction"]


@pytest.fixture
def pair(actor, befriend) -> tuple[Actor, Actor]:
    alice, bob = actor("alice"), actor("bob")
    befriend(alice, bob)
    return alice, bob


# --- the API and the summary ------------------------------------------------------------------
@pytest.mark.django_db
def test_react_and_unreact_answer_the_summary_and_push_to_both_sides(
    pair, push_recorder, django_capture_on_commit_callbacks
):
    alice, bob = pair
    sent = alice.send_to_user(bob, "hello")
    assert sent["reactions"] == []
    push_recorder.listen(alice.id, bob.id)

    with django_capture_on_commit_callbacks(execute=True):
        data = ok(react(bob, sent["id"], "👍"))
    assert data == [{"emoji": "👍", "count": 1, "user_ids": [bob.id]}]
    for user in (alice, bob):
        [event] = reaction_events(push_recorder, user.id)
        assert set(event) == PUSH_FIELDS
        assert event == {
            "message_id": sent["id"],
            "seq": sent["seq"],
            "chat_type": 0,
            "sender_id": alice.id,
            "receiver_id": bob.id,
            "group_id": None,
            "user_id": bob.id,
            "emoji": "👍",
            "action": "add",
            "count": 1,
        }

    # Every message object shows the summary.
    [shown] = bob.history(alice.id, 0)["messages"]
    assert shown["reactions"] == data

    with django_capture_on_commit_callbacks(execute=True):
        assert ok(unreact(bob, sent["id"], "👍")) == []
    for user in (alice, bob):
        [event] = reaction_events(push_recorder, user.id)
        assert (event["action"], event["count"], event["user_id"]) == ("remove", 0, bob.id)
    assert alice.history(bob.id, 0)["messages"][0]["reactions"] == []
    assert not Reaction.objects.exists()


@pytest.mark.django_db
def test_reacting_twice_or_removing_what_i_did_not_give_changes_nothing_and_pushes_nothing(
    pair, push_recorder, django_capture_on_commit_callbacks
):
    alice, bob = pair
    sent = alice.send_to_user(bob, "hello")
    ok(react(bob, sent["id"], "👍"))
    push_recorder.listen(alice.id, bob.id)
    before = summary(sent["id"])

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert ok(react(bob, sent["id"], "👍")) == before
        assert ok(react(bob, sent["id"], "  👍 ")) == before  # trimmed: the same emoji
        assert ok(unreact(alice, sent["id"], "👍")) == before  # alice never gave it
        assert ok(unreact(bob, sent["id"], "🎉")) == before  # nobody gave it
    assert callbacks == []
    assert reaction_events(push_recorder, alice.id) == []
    assert reaction_events(push_recorder, bob.id) == []
    assert summary(sent["id"]) == before
    assert Reaction.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "emoji",
    [
        "👍",
        "👨\u200d👩\u200d👧",  # one emoji of five code points
        "ok",  # any text: not checked to be an emoji
        "+1",
        "x" * 32,
        "👍" * 32,  # 32 code points (128 bytes)
    ],
)
def test_any_text_of_1_to_32_code_points_is_an_emoji(pair, emoji):
    alice, bob = pair
    sent = alice.send_to_user(bob, "hello")
    assert ok(react(bob, sent["id"], f"  {emoji}\n")) == [
        {"emoji": emoji, "count": 1, "user_ids": [bob.id]}
    ]
    assert Reaction.objects.get().emoji == emoji


@pytest.mark.django_db
def test_emoji_is_not_normalized(pair):
    alice, bob = pair
    sent = alice.send_to_user(bob, "hello")
    composed, decomposed = "é", "e\u0301"
    assert unicodedata.normalize("NFC", decomposed) == composed
    ok(react(bob, sent["id"], composed))
    data = ok(react(bob, sent["id"], decomposed))
    assert [entry["emoji"] for entry in data] == [composed, decomposed]
    assert ok(unreact(bob, sent["id"], decomposed)) == [
        {"emoji": composed, "count": 1, "user_ids": [bob.id]}
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["react", "unreact"])
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"emoji": "👍"}, "message_id"),
        ({"message_id": "x", "emoji": "👍"}, "message_id"),
        ({"message_id": 0, "emoji": "👍"}, "message_id"),
        ({"message_id": "MESSAGE"}, "emoji"),
        ({"message_id": "MESSAGE", "emoji": ""}, "emoji"),
        ({"message_id": "MESSAGE", "emoji": " \t\n "}, "emoji"),
        ({"message_id": "MESSAGE", "emoji": None}, "emoji"),
        ({"message_id": "MESSAGE", "emoji": "x" * 33}, "emoji"),
        ({"message_id": "MESSAGE", "emoji": "👍" * 33}, "emoji"),
        ({"message_id": "MESSAGE", "emoji": 5}, "emoji"),
        ({"message_id": "MESSAGE", "emoji": True}, "emoji"),
        ({"message_id": "MESSAGE", "emoji": ["👍"]}, "emoji"),
        ({"message_id": "MESSAGE", "emoji": {"e": "👍"}}, "emoji"),
        ({"message_id": "MESSAGE", "emoji": "a\x00b"}, "emoji"),
    ],
)
def test_bad_input_is_40000_naming_the_field(pair, path, body, field):
    alice, bob = pair
    sent = alice.send_to_user(bob, "hello")
    ok(react(bob, sent["id"], "👍"))
    before = summary(sent["id"])
    body = {key: sent["id"] if value == "MESSAGE" else value for key, value in body.items()}
    response = bob.post(f"/chat/message/{path}", body)
    assert (response.status_code, code(response)) == (400, 40000)
    assert f"{field}:" in response.json()["message"]
    assert summary(sent["id"]) == before and Reaction.objects.count() == 1


@pytest.mark.django_db
def test_a_message_i_do_not_see_in_history_is_40004(actor, befriend, make_group):
    alice, bob, carol = actor("alice"), actor("bob"), actor("carol")
    befriend(alice, bob)
    private = alice.send_to_user(bob, "hello")
    owner, member, late, clearer, deleter, leaver = (
        actor(name) for name in ("owner", "member", "late", "clearer", "deleter", "leaver")
    )
    group_id = make_group(owner, member, clearer, deleter, leaver)
    in_group = owner.send_to_group(group_id, "hello all")
    ok(owner.post("/group/invite", {"group_id": group_id, "user_ids": [late.id]}))
    ok(clearer.post("/chat/conversation/delete", {"target_id": group_id, "chat_type": 1}))
    ok(deleter.post("/chat/message/delete", {"message_id": in_group["id"]}))
    ok(leaver.post("/group/leave", {"group_id": group_id}))
    ok(react(member, in_group["id"], "👍"))

    refused = [
        (carol, private["id"]),  # not a participant
        (alice, 99_999_999),  # unknown
        (carol, in_group["id"]),  # not a member
        (late, in_group["id"]),  # joined after it
        (clearer, in_group["id"]),  # cleared past it
        (deleter, in_group["id"]),  # deleted it for themself
        (leaver, in_group["id"]),  # no longer a member
    ]
    for who, message_id in refused:
        for path in ("react", "unreact"):
            response = react(who, message_id, "👍", path=path)
            assert (response.status_code, code(response)) == (404, 40004), (who.user, path)
    assert summary(in_group["id"]) == [{"emoji": "👍", "count": 1, "user_ids": [member.id]}]
    assert Reaction.objects.count() == 1

    # Clearing a private conversation hides its older messages too.
    ok(bob.post("/chat/conversation/delete", {"target_id": alice.id, "chat_type": 0}))
    assert code(react(bob, private["id"], "👍")) == 40004
    assert ok(react(alice, private["id"], "👍"))[0]["user_ids"] == [alice.id]


@pytest.mark.django_db
def test_a_recalled_message_is_40003_for_react_and_unreact(pair):
    alice, bob = pair
    sent = alice.send_to_user(bob, "hello")
    ok(react(bob, sent["id"], "👍"))
    ok(alice.post("/chat/message/recall", {"message_id": sent["id"]}))
    for who in (alice, bob):
        for path in ("react", "unreact"):
            for emoji in ("👍", "🎉"):  # given or not: the recall decides
                response = react(who, sent["id"], emoji, path=path)
                assert (response.status_code, code(response)) == (403, 40003)
    assert Reaction.objects.count() == 1  # the recall keeps what was there
    # ... but a recalled message shows nothing of what it was, its reactions included
    [listed] = bob.history(alice.id, 0)["messages"]
    assert (listed["status"], listed["reactions"]) == (2, [])


@pytest.mark.django_db
def test_one_user_has_at_most_10_different_emoji_on_one_message(pair):
    alice, bob = pair
    sent = alice.send_to_user(bob, "hello")
    other = alice.send_to_user(bob, "another")
    emoji = [chr(0x1F600 + i) for i in range(11)]
    for item in emoji[:10]:
        ok(react(bob, sent["id"], item))
    before = summary(sent["id"])

    response = react(bob, sent["id"], emoji[10])
    assert (response.status_code, code(response)) == (400, 40000)
    assert response.json()["message"] == "参数错误: emoji: 每条消息最多 10 种不同的表情回应"
    english = bob.post(
        "/chat/message/react",
        {"message_id": sent["id"], "emoji": emoji[10]},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert english.json()["message"] == (
        "Invalid parameter: emoji: at most 10 different emoji per message"
    )
    assert summary(sent["id"]) == before
    assert Reaction.objects.filter(message_id=sent["id"], user=bob.user).count() == 10

    # One already given may be given again (no change); others and other messages are free.
    assert ok(react(bob, sent["id"], emoji[0])) == before
    ok(react(alice, sent["id"], emoji[10]))
    ok(react(bob, other["id"], emoji[10]))
    # Taking one back makes room for another.
    ok(unreact(bob, sent["id"], emoji[0]))
    data = ok(react(bob, sent["id"], emoji[10]))
    assert {e["emoji"]: e["user_ids"] for e in data}[emoji[10]] == [alice.id, bob.id]


@pytest.mark.django_db
def test_the_summary_keeps_first_use_order_and_an_emoji_back_from_0_goes_last(actor, make_group):
    owner, u1, u2 = actor("owner"), actor("u1"), actor("u2")
    group_id = make_group(owner, u1, u2)
    sent = owner.send_to_group(group_id, "vote")
    ok(react(u1, sent["id"], "A"))
    ok(react(u2, sent["id"], "B"))
    ok(react(u2, sent["id"], "A"))
    data = ok(react(u1, sent["id"], "C"))
    assert data == [
        {"emoji": "A", "count": 2, "user_ids": [u1.id, u2.id]},
        {"emoji": "B", "count": 1, "user_ids": [u2.id]},
        {"emoji": "C", "count": 1, "user_ids": [u1.id]},
    ]
    # A keeps its place while its count stays above 0, also when its first user leaves it.
    data = ok(unreact(u1, sent["id"], "A"))
    assert [(e["emoji"], e["count"], e["user_ids"]) for e in data] == [
        ("A", 1, [u2.id]),
        ("B", 1, [u2.id]),
        ("C", 1, [u1.id]),
    ]
    # B falls to 0 and leaves; given again, it goes to the end.
    assert [e["emoji"] for e in ok(unreact(u2, sent["id"], "B"))] == ["A", "C"]
    assert [e["emoji"] for e in ok(react(owner, sent["id"], "B"))] == ["A", "C", "B"]
    # A back from 0 goes last as well.
    assert [e["emoji"] for e in ok(unreact(u2, sent["id"], "A"))] == ["C", "B"]
    data = ok(react(u1, sent["id"], "A"))
    assert data == [
        {"emoji": "C", "count": 1, "user_ids": [u1.id]},
        {"emoji": "B", "count": 1, "user_ids": [owner.id]},
        {"emoji": "A", "count": 1, "user_ids": [u1.id]},
    ]
    assert summary(sent["id"]) == data


@pytest.mark.django_db
def test_user_ids_hold_the_first_20_users_in_reaction_order(actor, make_group):
    owner = actor("owner")
    members = [actor(f"m{i}") for i in range(23)]
    group_id = make_group(owner, *members)
    sent = owner.send_to_group(group_id, "react!")
    # Reaction order is not id order: the last members react first.
    order = members[::-1][:22]
    for member in order:
        data = ok(react(member, sent["id"], "🔥"))
    ids = [member.id for member in order]
    assert data == [{"emoji": "🔥", "count": 22, "user_ids": ids[:20]}]

    # One of the first 20 leaves: the 21st moves in, at the end.
    data = ok(unreact(order[3], sent["id"], "🔥"))
    expected = [*ids[:3], *ids[4:21]]
    assert data == [{"emoji": "🔥", "count": 21, "user_ids": expected}]
    # Reacting again is a new reaction: behind everyone who is there.
    ok(react(order[3], sent["id"], "🔥"))
    data = ok(react(members[0], sent["id"], "🔥"))  # the 23rd, not named
    assert data == [{"emoji": "🔥", "count": 23, "user_ids": expected}]
    # Someone beyond the first 20 leaving changes only the count.
    data = ok(unreact(order[21], sent["id"], "🔥"))
    assert data == [{"emoji": "🔥", "count": 22, "user_ids": expected}]
    ok(unreact(order[0], sent["id"], "🔥"))
    assert summary(sent["id"])[0]["user_ids"] == [*expected[1:], order[3].id]


# --- the push -----------------------------------------------------------------------------------
@pytest.mark.django_db
def test_group_reaction_is_pushed_to_every_member_who_sees_the_message(
    actor, make_group, push_recorder, django_capture_on_commit_callbacks
):
    owner, sender, reactor = actor("owner"), actor("sender"), actor("reactor")
    late, clearer, deleter, leaver, outsider = (
        actor(name) for name in ("late", "clearer", "deleter", "leaver", "outsider")
    )
    group_id = make_group(owner, sender, reactor, clearer, deleter, leaver)
    sent = sender.send_to_group(group_id, "hello all")
    ok(owner.post("/group/invite", {"group_id": group_id, "user_ids": [late.id]}))
    ok(clearer.post("/chat/conversation/delete", {"target_id": group_id, "chat_type": 1}))
    ok(deleter.post("/chat/message/delete", {"message_id": sent["id"]}))
    ok(leaver.post("/group/leave", {"group_id": group_id}))
    everyone = [owner, sender, reactor, late, clearer, deleter, leaver, outsider]
    push_recorder.listen(*(who.id for who in everyone))

    with django_capture_on_commit_callbacks(execute=True):
        ok(react(reactor, sent["id"], "🎉"))
    expected = {
        "message_id": sent["id"],
        "seq": sent["seq"],
        "chat_type": 1,
        "sender_id": sender.id,
        "receiver_id": group_id,
        "group_id": group_id,
        "user_id": reactor.id,
        "emoji": "🎉",
        "action": "add",
        "count": 1,
    }
    for who in everyone:
        events = reaction_events(push_recorder, who.id)
        if who in (owner, sender, reactor):
            assert events == [expected], who.user
        else:  # joined after it, cleared past it, deleted it, left, never a member
            assert events == [], who.user

    with django_capture_on_commit_callbacks(execute=True):
        ok(unreact(reactor, sent["id"], "🎉"))
    for who in everyone:
        events = reaction_events(push_recorder, who.id)
        if who in (owner, sender, reactor):
            assert events == [{**expected, "action": "remove", "count": 0}], who.user
        else:
            assert events == [], who.user


@pytest.mark.django_db
def test_private_reaction_skips_the_side_that_no_longer_sees_the_message(
    pair, push_recorder, django_capture_on_commit_callbacks
):
    alice, bob = pair
    first = alice.send_to_user(bob, "first")
    second = bob.send_to_user(alice, "second")
    ok(bob.post("/chat/message/delete", {"message_id": first["id"]}))
    push_recorder.listen(alice.id, bob.id)
    with django_capture_on_commit_callbacks(execute=True):
        ok(react(alice, first["id"], "👍"))
    assert [e["emoji"] for e in reaction_events(push_recorder, alice.id)] == ["👍"]
    assert reaction_events(push_recorder, bob.id) == []

    ok(alice.post("/chat/conversation/delete", {"target_id": bob.id, "chat_type": 0}))
    with django_capture_on_commit_callbacks(execute=True):
        ok(react(bob, second["id"], "❤️"))
    [event] = reaction_events(push_recorder, bob.id)
    assert (event["sender_id"], event["receiver_id"], event["group_id"]) == (bob.id, alice.id, None)
    assert reaction_events(push_recorder, alice.id) == []


@pytest.mark.django_db
def test_a_reaction_costs_the_same_queries_whatever_the_group_size(
    actor, make_group, django_assert_max_num_queries
):
    owner = actor("owner")
    members = [actor(f"m{i}") for i in range(30)]
    group_id = make_group(owner, *members)
    sent = owner.send_to_group(group_id, "hello")
    counts = []
    for who in (members[0], members[1]):
        with django_assert_max_num_queries(40) as captured:
            ok(react(who, sent["id"], "👍"))
        counts.append(len(captured))
    small = actor("small")
    small_group = make_group(small)
    small_sent = small.send_to_group(small_group, "hello")
    with django_assert_max_num_queries(40) as captured:
        ok(react(small, small_sent["id"], "👍"))
    assert counts == [len(captured)] * 2


# --- concurrency, on PostgreSQL with real threads -----------------------------------------------
def _react_together(calls: list) -> list[dict]:
    """Run each ``(service, user_id, message_id, emoji)`` in its own thread, started together."""
    barrier = threading.Barrier(len(calls))

    def work(service, user_id: int, message_id: int, emoji: str):
        def run():
            user = User.objects.get(pk=user_id)
            barrier.wait(10)
            return service(user=user, message_id=message_id, emoji=emoji)

        return run

    started = [start_thread(work(*call)) for call in calls]
    for thread, _outcome in started:
        thread.join(30)
    return [outcome for _thread, outcome in started]


def _assert_summary_matches_rows(message_id: int) -> None:
    """Every emoji with rows is in the summary with their count and first 20 users in id
    order, and nothing else is."""
    reactions = summary(message_id)
    rows = list(Reaction.objects.filter(message_id=message_id).order_by("pk"))
    by_emoji: dict[str, list[int]] = {}
    for row in rows:
        by_emoji.setdefault(row.emoji, []).append(row.user_id)
    assert {entry["emoji"] for entry in reactions} == set(by_emoji)
    assert len(reactions) == len(by_emoji)
    for entry in reactions:
        users = by_emoji[entry["emoji"]]
        assert entry["count"] == len(users), entry
        assert entry["user_ids"] == users[:20], entry


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_users_adding_the_same_emoji_at_once_count_2(actor, make_group):
    assert connection.vendor == "postgresql"
    owner, a, b = actor("owner"), actor("a"), actor("b")
    group_id = make_group(owner, a, b)
    for round_number in range(8):
        sent = owner.send_to_group(group_id, f"round {round_number}")
        outcomes = _react_together(
            [
                (services.message_react, a.id, sent["id"], "👍"),
                (services.message_react, b.id, sent["id"], "👍"),
            ]
        )
        assert all("error" not in outcome for outcome in outcomes), outcomes
        [entry] = summary(sent["id"])
        assert entry["count"] == 2 and sorted(entry["user_ids"]) == sorted([a.id, b.id])
        assert Reaction.objects.filter(message_id=sent["id"]).count() == 2
        _assert_summary_matches_rows(sent["id"])


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
def test_one_user_racing_11_different_emoji_keeps_10(pair):
    alice, bob = pair
    sent = alice.send_to_user(bob, "hello")
    emoji = [chr(0x1F600 + i) for i in range(11)]
    outcomes = _react_together(
        [(services.message_react, bob.id, sent["id"], item) for item in emoji]
    )
    refused = [outcome["error"] for outcome in outcomes if "error" in outcome]
    assert len(refused) == 1 and refused[0].error_code == 40000, outcomes
    assert Reaction.objects.filter(message_id=sent["id"], user=bob.user).count() == 10
    _assert_summary_matches_rows(sent["id"])


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_adds_and_removes_by_many_users_end_as_the_rows_say(actor, make_group):
    owner = actor("owner")
    members = [actor(f"m{i}") for i in range(24)]
    group_id = make_group(owner, *members)
    sent = owner.send_to_group(group_id, "hello")
    choices = random.Random(7)
    emoji = ["👍", "❤️", "😂", "🎉"]
    for _round in range(6):
        calls = []
        for member in members:
            service = choices.choice([services.message_react, services.message_unreact])
            calls.append((service, member.id, sent["id"], choices.choice(emoji)))
        outcomes = _react_together(calls)
        assert all("error" not in outcome for outcome in outcomes), outcomes
        _assert_summary_matches_rows(sent["id"])
    # Everyone adds the same emoji at once: all 24 counted, the first 20 named.
    _react_together([(services.message_react, m.id, sent["id"], "🔥") for m in members])
    _assert_summary_matches_rows(sent["id"])
    assert {e["emoji"]: e["count"] for e in summary(sent["id"])}["🔥"] == 24
