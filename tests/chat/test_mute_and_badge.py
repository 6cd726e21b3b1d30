"""Mute a conversation and the badge (CONTRACT 10): ``POST /chat/conversation/mute`` and
``GET /chat/unread-count``."""

import pytest

from chat.models import ConversationMember
from tests.chat.conftest import ok

pytestmark = pytest.mark.django_db


def mute(who, target_id: int, chat_type: int, is_muted=True):
    return who.post(
        "/chat/conversation/mute",
        {"target_id": target_id, "chat_type": chat_type, "is_muted": is_muted},
    )


def badge(who) -> dict:
    return ok(who.get("/chat/unread-count"))


@pytest.fixture
def pair(actor, befriend):
    alice, bob = actor("alice"), actor("bob")
    befriend(alice, bob)
    return alice, bob


# --- mute ------------------------------------------------------------------------------------


def test_mute_and_unmute_show_in_the_list(pair):
    alice, bob = pair
    bob.send_to_user(alice)
    [entry] = alice.conversations()
    assert entry["is_muted"] is False
    assert ok(mute(alice, bob.id, 0)) == {"conversation_id": entry["id"], "is_muted": True}
    assert ok(mute(alice, str(bob.id), "0")) == {"conversation_id": entry["id"], "is_muted": True}
    [muted] = alice.conversations()
    assert (muted["id"], muted["is_muted"], muted["unread_count"]) == (entry["id"], True, 1)
    assert bob.conversations()[0]["is_muted"] is False  # mine only
    assert ok(mute(alice, bob.id, 0, is_muted=False))["is_muted"] is False
    assert alice.conversations()[0]["is_muted"] is False


def test_mute_creates_my_entry_which_is_listed_once_a_message_arrives(pair):
    alice, bob = pair
    data = ok(mute(alice, bob.id, 0))
    assert ConversationMember.objects.filter(pk=data["conversation_id"], user=alice.user).exists()
    assert alice.conversations() == []  # muting alone lists nothing
    assert ok(mute(alice, bob.id, 0))["conversation_id"] == data["conversation_id"]
    bob.send_to_user(alice, "first")
    [entry] = alice.conversations()
    assert (entry["id"], entry["is_muted"], entry["unread_count"]) == (
        data["conversation_id"],
        True,
        1,
    )
    assert [m["content"] for m in alice.history(bob.id, 0)["messages"]] == ["first"]


def test_mute_keeps_a_listed_or_pinned_entry_as_it_is(pair, make_group):
    alice, bob = pair
    group_id = make_group(alice, bob)
    ok(
        bob.post(
            "/chat/conversation/pin", {"target_id": group_id, "chat_type": 1, "is_pinned": True}
        )
    )
    ok(mute(bob, group_id, 1))
    [entry] = bob.conversations()
    assert (entry["target_id"], entry["is_pinned"], entry["is_muted"]) == (group_id, True, True)


def test_a_muted_conversation_is_delivered_as_before(
    pair, make_group, push_recorder, django_capture_on_commit_callbacks
):
    alice, bob = pair
    group_id = make_group(alice, bob)
    ok(mute(bob, alice.id, 0))
    ok(mute(bob, group_id, 1))
    push_recorder.listen(bob.id)
    with django_capture_on_commit_callbacks(execute=True):
        alice.send_to_user(bob, "private")
        alice.send_to_group(group_id, "group")
    assert [e["data"]["content"] for e in push_recorder.events(bob.id)] == ["private", "group"]


def test_mute_refusals_are_those_of_pin(pair, actor, make_group):
    alice, _bob = pair
    foreign_group = make_group(actor("owner2"))
    cases = [
        ((99999999, 0), 40004),
        ((alice.id, 0), 40000),  # myself
        ((foreign_group, 1), 40003),
        ((99999999, 1), 40004),
    ]
    for (target_id, chat_type), code in cases:
        pin = alice.post(
            "/chat/conversation/pin",
            {"target_id": target_id, "chat_type": chat_type, "is_pinned": True},
        )
        assert (mute(alice, target_id, chat_type).json()["code"], pin.json()["code"]) == (
            code,
            code,
        )
    assert not ConversationMember.objects.filter(user=alice.user).exists()


def test_any_existing_user_may_be_muted_as_pinned(pair, actor):
    """Neither pin nor mute needs a friendship: no message goes anywhere."""
    alice, _bob = pair
    stranger = actor("stranger")
    assert ok(mute(alice, stranger.id, 0))["is_muted"] is True
    assert stranger.conversations() == [] and alice.conversations() == []
    assert badge(stranger)["unread_count"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {"chat_type": 0, "is_muted": True},
        {"target_id": "x", "chat_type": 0, "is_muted": True},
        {"target_id": 1, "chat_type": 7, "is_muted": True},
        {"target_id": 1, "chat_type": 0},
        {"target_id": 1, "chat_type": 0, "is_muted": "maybe"},
        {"target_id": 1, "chat_type": 0, "is_muted": None},
    ],
)
def test_bad_mute_input_is_40000(pair, body):
    alice, _bob = pair
    response = alice.post("/chat/conversation/mute", body).json()
    assert response["code"] == 40000


def test_a_former_member_cannot_mute_the_group(pair, make_group):
    alice, bob = pair
    group_id = make_group(alice, bob)
    ok(bob.post("/group/leave", {"group_id": group_id}))
    assert mute(bob, group_id, 1).json()["code"] == 40003


# --- badge -----------------------------------------------------------------------------------


def test_the_badge_of_nothing_is_zero(actor):
    assert badge(actor("nobody")) == {
        "unread_count": 0,
        "muted_unread_count": 0,
        "mention_count": 0,
    }


def test_the_badge_splits_unread_by_mute_and_counts_mentions_everywhere(pair, actor, make_group):
    alice, bob = pair
    carol = actor("carol")
    loud, quiet = make_group(carol, alice, bob), make_group(carol, alice, name="quiet")
    for _ in range(2):
        bob.send_to_user(alice)
    alice.send_to_group(loud, mentions=[alice.id])  # my own: never unread, no mention
    carol.send_to_group(loud, mentions=[alice.id])
    carol.send_to_group(quiet, mention_all=True)
    carol.send_to_group(quiet, mentions=[alice.id], mention_all=True)
    carol.send_to_group(quiet, "plain")
    ok(mute(alice, quiet, 1))
    expected = {"unread_count": 3, "muted_unread_count": 3, "mention_count": 3}
    assert badge(alice) == expected
    entries = alice.conversations()
    assert sum(e["unread_count"] for e in entries if not e["is_muted"]) == 3
    assert sum(e["unread_count"] for e in entries if e["is_muted"]) == 3
    assert sum(e["mention_count"] for e in entries) == 3
    ok(alice.post("/chat/read", {"target_id": quiet, "chat_type": 1}))
    assert badge(alice) == {"unread_count": 3, "muted_unread_count": 0, "mention_count": 1}
    ok(mute(alice, quiet, 1, is_muted=False))
    carol.send_to_group(quiet, mention_all=True)
    assert badge(alice) == {"unread_count": 4, "muted_unread_count": 0, "mention_count": 2}


def test_the_badge_sums_only_the_conversations_my_list_shows(pair, actor, make_group):
    alice, bob = pair
    carol = actor("carol")
    left, dismissed = make_group(carol, alice), make_group(carol, alice, name="gone")
    carol.send_to_group(left, mention_all=True)
    carol.send_to_group(dismissed, mention_all=True)
    bob.send_to_user(alice, "hidden")
    assert badge(alice) == {"unread_count": 3, "muted_unread_count": 0, "mention_count": 2}
    ok(alice.post("/group/leave", {"group_id": left}))
    ok(carol.post("/group/dismiss", {"group_id": dismissed}))
    ok(alice.post("/chat/conversation/delete", {"target_id": bob.id, "chat_type": 0}))
    assert alice.conversations() == []
    assert badge(alice) == {"unread_count": 0, "muted_unread_count": 0, "mention_count": 0}
    bob.send_to_user(alice, "back")
    assert badge(alice) == {"unread_count": 1, "muted_unread_count": 0, "mention_count": 0}


def test_the_badge_leaves_out_recalled_and_deleted_mentions(pair, actor, make_group):
    alice, _bob = pair
    carol = actor("carol")
    group_id = make_group(carol, alice)
    recalled = carol.send_to_group(group_id, mentions=[alice.id])
    deleted = carol.send_to_group(group_id, mention_all=True)
    carol.send_to_group(group_id, mentions=[alice.id])
    ok(carol.post("/chat/message/recall", {"message_id": recalled["id"]}))
    ok(alice.post("/chat/message/delete", {"message_id": deleted["id"]}))
    assert badge(alice) == {"unread_count": 3, "muted_unread_count": 0, "mention_count": 1}


def test_the_badge_takes_a_constant_number_of_queries(
    actor, befriend, make_group, django_assert_max_num_queries
):
    me = actor("me")

    def grow(n: int) -> None:
        for index in range(n):
            peer = actor()
            befriend(me, peer)
            peer.send_to_user(me)
            group_id = make_group(peer, me)
            peer.send_to_group(group_id, mentions=[me.id], mention_all=True)
            if index % 2:
                ok(mute(me, group_id, 1))

    grow(2)
    with django_assert_max_num_queries(4) as small:
        assert badge(me) == {"unread_count": 3, "muted_unread_count": 1, "mention_count": 2}
    grow(10)
    with django_assert_max_num_queries(4) as large:
        assert badge(me) == {"unread_count": 18, "muted_unread_count": 6, "mention_count": 12}
    assert len(large.captured_queries) == len(small.captured_queries)
