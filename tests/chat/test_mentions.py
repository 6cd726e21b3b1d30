"""Mentions (CONTRACT 10): the send rules of ``mentions`` and ``mention_all``, and the
``mention_count`` of each conversation entry."""

import pytest
from channels.db import database_sync_to_async

from accounts.models import User
from chat.models import Message, MessageMention
from tests.chat.conftest import ok
from tests.realtime.conftest import open_socket  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db


def send_code(sender, group_id: int, **fields) -> int:
    body = {"group_id": group_id, "chat_type": 1, "type": 0, "content": "hi", **fields}
    return sender.post("/chat/send", body).json()["code"]


def mention_counts(actor_) -> dict[int, int]:
    return {entry["target_id"]: entry["mention_count"] for entry in actor_.conversations()}


@pytest.fixture
def team(actor, make_group):
    """A group of an owner, an admin and two members; ``outsider`` is in no group."""
    owner, admin, ann, ben = actor("owner"), actor("admin"), actor("ann"), actor("ben")
    group_id = make_group(owner, admin, ann, ben)
    ok(owner.post("/group/set/role", {"group_id": group_id, "user_id": admin.id, "role": 1}))
    return {
        "group": group_id,
        "owner": owner,
        "admin": admin,
        "ann": ann,
        "ben": ben,
        "outsider": actor("outsider"),
    }


# --- sending ---------------------------------------------------------------------------------


def test_duplicates_collapse_keeping_the_first_occurrences_order(team):
    owner, ann, ben = team["owner"], team["ann"], team["ben"]
    message = owner.send_to_group(team["group"], mentions=[ben.id, ann.id, ben.id, str(ann.id)])
    assert (message["mentions"], message["mention_all"]) == ([ben.id, ann.id], False)
    [stored] = ann.history(team["group"], 1)["messages"]
    assert stored["mentions"] == [ben.id, ann.id]
    rows = MessageMention.objects.filter(message_id=message["id"]).order_by("id")
    assert [row.user_id for row in rows] == [ben.id, ann.id]


def test_at_most_fifty_distinct_mentions(team, make_group):
    owner = team["owner"]
    users = User.objects.bulk_create(
        User(username=f"many{n}", email=f"many{n}@example.com", nickname=f"many{n}", password="!")
        for n in range(50)
    )
    ids = [user.pk for user in users]
    group_id = make_group(owner)
    ok(owner.post("/group/invite", {"group_id": group_id, "user_ids": ids}))
    fifty = owner.send_to_group(group_id, mentions=[*ids, *ids[:10]])  # 60 given, 50 distinct
    assert fifty["mentions"] == ids
    response = owner.post(
        "/chat/send",
        {"group_id": group_id, "chat_type": 1, "content": "x", "mentions": [*ids, owner.id]},
    ).json()
    assert response["code"] == 40000 and "mentions" in response["message"]
    assert Message.objects.filter(group_id=group_id).count() == 1


def test_every_mentioned_user_must_be_a_current_member(team):
    owner, ann = team["owner"], team["ann"]
    ok(owner.post("/group/kick", {"group_id": team["group"], "user_id": team["ben"].id}))
    for stranger in (team["outsider"].id, team["ben"].id, 99999999):
        response = owner.post(
            "/chat/send",
            {
                "group_id": team["group"],
                "chat_type": 1,
                "content": "x",
                "mentions": [ann.id, stranger],
            },
        ).json()
        assert response["code"] == 40000 and "mentions" in response["message"]
    assert not Message.objects.filter(group_id=team["group"]).exists()
    assert not MessageMention.objects.exists()


def test_the_sender_may_mention_themself_which_never_counts_for_them(team):
    ann = team["ann"]
    message = ann.send_to_group(team["group"], mentions=[ann.id])
    assert message["mentions"] == [ann.id]
    assert mention_counts(ann) == {team["group"]: 0}


def test_mention_all_is_for_the_owner_and_admins(team):
    group_id = team["group"]
    assert send_code(team["ann"], group_id, mention_all=True) == 40003
    assert not Message.objects.filter(group_id=group_id).exists()
    assert ok(team["ann"].post("/chat/send", _group_text(group_id, mention_all=False)))
    for manager in (team["owner"], team["admin"]):
        assert manager.send_to_group(group_id, mention_all=True)["mention_all"] is True


def test_mention_all_does_not_fill_mentions(team):
    owner, ann = team["owner"], team["ann"]
    everyone = owner.send_to_group(team["group"], mention_all=True)
    assert (everyone["mentions"], everyone["mention_all"]) == ([], True)
    both = owner.send_to_group(team["group"], mentions=[ann.id], mention_all=True)
    assert (both["mentions"], both["mention_all"]) == ([ann.id], True)


def test_private_sends_refuse_mentions(actor, befriend):
    alice, bob = actor("alice"), actor("bob")
    befriend(alice, bob)
    base = {"to_user_id": bob.id, "chat_type": 0, "content": "x"}
    for fields, field in (
        ({"mentions": [bob.id]}, "mentions"),
        ({"mention_all": True}, "mention_all"),
    ):
        response = alice.post("/chat/send", {**base, **fields}).json()
        assert response["code"] == 40000 and field in response["message"], response
    assert not Message.objects.exists()
    sent = alice.send_to_user(bob, "plain", mentions=[], mention_all=False)
    assert (sent["mentions"], sent["mention_all"]) == ([], False)


@pytest.mark.parametrize(
    "fields",
    [
        {"mentions": "1,2"},
        {"mentions": [1, "x"]},
        {"mentions": [0]},
        {"mentions": {"id": 1}},
        {"mention_all": "maybe"},
        {"mention_all": [True]},
    ],
)
def test_malformed_mentions_are_40000(team, fields):
    assert send_code(team["owner"], team["group"], **fields) == 40000
    assert not Message.objects.exists()


def test_the_message_push_carries_the_mentions(
    team, push_recorder, django_capture_on_commit_callbacks
):
    owner, ann = team["owner"], team["ann"]
    push_recorder.listen(ann.id)
    with django_capture_on_commit_callbacks(execute=True):
        owner.send_to_group(team["group"], mentions=[ann.id, ann.id], mention_all=True)
    [event] = push_recorder.events(ann.id)
    assert (event["data"]["mentions"], event["data"]["mention_all"]) == ([ann.id], True)


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_message_frame_accepts_mentions(make_user, open_socket):  # noqa: F811
    owner, ann, ben = [await database_sync_to_async(make_user)(name) for name in ("o", "a", "b")]
    group_id = await database_sync_to_async(_group_of)(owner, ann, ben)
    _connected, socket = await open_socket(owner)
    data = {"group_id": group_id, "chat_type": 1, "content": "hey", "client_msg_id": "m1"}
    await socket.send({"type": "message", "data": {**data, "mentions": [ben.pk, ann.pk, ben.pk]}})
    assert (await socket.receive_type("ack"))["client_msg_id"] == "m1"
    pushed = await socket.receive_type("message")
    assert (pushed["mentions"], pushed["mention_all"]) == ([ben.pk, ann.pk], False)
    await socket.send(
        {"type": "message", "data": {**data, "client_msg_id": "m2", "mention_all": True}}
    )
    assert (await socket.receive_type("ack"))["client_msg_id"] == "m2"
    assert (await socket.receive_type("message"))["mention_all"] is True
    _connected, ann_socket = await open_socket(ann)
    await ann_socket.send(
        {"type": "message", "data": {**data, "client_msg_id": "m3", "mention_all": True}}
    )
    error = await ann_socket.receive_type("error")
    assert (error["code"], error["client_msg_id"]) == (40003, "m3")
    await ann_socket.send(
        {"type": "message", "data": {**data, "client_msg_id": "m4", "mentions": [99999999]}}
    )
    assert (await ann_socket.receive_type("error"))["code"] == 40000


def _group_of(owner: User, *members: User) -> int:
    from groups import services as group_services

    group = group_services.group_create(owner=owner, name="frames")
    group_services.group_invite(user=owner, group_id=group.pk, user_ids=[m.pk for m in members])
    return group.pk


def _group_text(group_id: int, **fields) -> dict:
    return {"group_id": group_id, "chat_type": 1, "type": 0, "content": "hi", **fields}


# --- mention_count ---------------------------------------------------------------------------


def test_mention_count_counts_unread_messages_that_mention_me_or_everyone(team):
    group_id, owner, ann, ben = team["group"], team["owner"], team["ann"], team["ben"]
    owner.send_to_group(group_id, mentions=[ann.id])
    owner.send_to_group(group_id, mention_all=True)
    owner.send_to_group(group_id, mentions=[ann.id, ben.id], mention_all=True)  # counts once
    owner.send_to_group(group_id, mentions=[ben.id])
    owner.send_to_group(group_id, "no mention")
    assert mention_counts(ann) == {group_id: 3}
    assert mention_counts(ben) == {group_id: 3}
    assert mention_counts(team["admin"]) == {group_id: 2}
    assert mention_counts(owner) == {group_id: 0}  # my own messages


def test_reading_clears_the_mention_count_and_later_mentions_count_again(team):
    group_id, owner, ann = team["group"], team["owner"], team["ann"]
    owner.send_to_group(group_id, mentions=[ann.id])
    ok(ann.post("/chat/read", {"target_id": group_id, "chat_type": 1}))
    assert mention_counts(ann) == {group_id: 0}
    owner.send_to_group(group_id, mention_all=True)
    [entry] = ann.conversations()
    assert (entry["mention_count"], entry["unread_count"]) == (1, 1)


def test_recalled_and_deleted_mentions_do_not_count(team):
    group_id, owner, ann, ben = team["group"], team["owner"], team["ann"], team["ben"]
    recalled = owner.send_to_group(group_id, mentions=[ann.id, ben.id])
    deleted = owner.send_to_group(group_id, mentions=[ann.id, ben.id])
    owner.send_to_group(group_id, mentions=[ann.id, ben.id])
    assert mention_counts(ann) == {group_id: 3}
    ok(owner.post("/chat/message/recall", {"message_id": recalled["id"]}))
    ok(ann.post("/chat/message/delete", {"message_id": deleted["id"]}))
    assert mention_counts(ann) == {group_id: 1}
    assert mention_counts(ben) == {group_id: 2}  # deleted by ann only


def test_a_member_who_joins_later_has_no_earlier_mentions(team, actor):
    group_id, owner = team["group"], team["owner"]
    owner.send_to_group(group_id, mention_all=True)
    newcomer = actor("newcomer")
    ok(owner.post("/group/invite", {"group_id": group_id, "user_ids": [newcomer.id]}))
    assert mention_counts(newcomer) == {group_id: 0}
    owner.send_to_group(group_id, mention_all=True)
    assert mention_counts(newcomer) == {group_id: 1}


def test_each_conversation_counts_its_own_mentions(team, make_group, actor, befriend):
    owner, ann = team["owner"], team["ann"]
    other_group = make_group(team["admin"], ann)
    owner.send_to_group(team["group"], mentions=[ann.id])
    team["admin"].send_to_group(other_group, mention_all=True)
    team["admin"].send_to_group(other_group, mentions=[ann.id])
    friend = actor("friend")
    befriend(ann, friend)
    friend.send_to_user(ann, "private")
    assert mention_counts(ann) == {team["group"]: 1, other_group: 2, friend.id: 0}


def test_the_list_stays_a_constant_number_of_queries_with_mentions(
    actor, make_group, django_assert_max_num_queries
):
    me = actor("me")

    def grow(n: int) -> None:
        for _ in range(n):
            owner = actor()
            group_id = make_group(owner, me)
            owner.send_to_group(group_id, mentions=[me.id], mention_all=True)
            owner.send_to_group(group_id, mention_all=True)

    grow(2)
    with django_assert_max_num_queries(5) as small:
        assert {entry["mention_count"] for entry in me.conversations()} == {2}
    grow(10)
    with django_assert_max_num_queries(5) as large:
        entries = me.conversations()
    assert len(entries) == 12 and {entry["mention_count"] for entry in entries} == {2}
    assert len(large.captured_queries) == len(small.captured_queries)
