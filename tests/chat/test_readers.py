"""Group read receipts (CONTRACT 10): ``GET /chat/message/readers``."""

import pytest

from tests.chat.conftest import ok

pytestmark = pytest.mark.django_db


def readers(asker, message_id) -> dict:
    return ok(asker.get("/chat/message/readers", {"message_id": message_id}))


def readers_code(asker, message_id) -> int:
    return asker.get("/chat/message/readers", {"message_id": message_id}).json()["code"]


def read(member, group_id: int) -> None:
    ok(member.post("/chat/read", {"target_id": group_id, "chat_type": 1}))


@pytest.fixture
def team(actor, make_group):
    owner, admin = actor("owner"), actor("admin")
    ann, ben, cat = actor("ann"), actor("ben"), actor("cat")
    group_id = make_group(owner, admin, ann, ben, cat)
    ok(owner.post("/group/set/role", {"group_id": group_id, "user_id": admin.id, "role": 1}))
    return {
        "group": group_id,
        "owner": owner,
        "admin": admin,
        "ann": ann,
        "ben": ben,
        "cat": cat,
    }


def test_read_and_unread_members_ascending_without_the_sender(team):
    group_id, owner, ann = team["group"], team["owner"], team["ann"]
    message = owner.send_to_group(group_id, "did you read this?")
    read(ann, group_id)
    owner.send_to_group(group_id, "later")
    read(team["cat"], group_id)  # read past it
    others = sorted([team["admin"].id, team["ben"].id])
    assert readers(owner, message["id"]) == {
        "read_user_ids": sorted([ann.id, team["cat"].id]),
        "unread_user_ids": others,
        "read_count": 2,
        "unread_count": 2,
    }


def test_the_sender_the_owner_and_admins_may_ask_other_members_may_not(team):
    group_id, ann, ben = team["group"], team["ann"], team["ben"]
    message = ann.send_to_group(group_id)
    read(ben, group_id)
    expected = {
        "read_user_ids": [ben.id],
        "unread_user_ids": sorted([team["owner"].id, team["admin"].id, team["cat"].id]),
        "read_count": 1,
        "unread_count": 3,
    }
    for asker in (ann, team["owner"], team["admin"]):
        assert readers(asker, message["id"]) == expected
    for member in (ben, team["cat"]):
        assert readers_code(member, message["id"]) == 40003


def test_who_does_not_see_the_message_gets_40004(team, actor):
    group_id, owner, ann = team["group"], team["owner"], team["ann"]
    message = ann.send_to_group(group_id)
    outsider = actor("outsider")
    assert readers_code(outsider, message["id"]) == 40004
    assert readers_code(owner, 99999999) == 40004
    newcomer = actor("newcomer")
    ok(owner.post("/group/invite", {"group_id": group_id, "user_ids": [newcomer.id]}))
    assert readers_code(newcomer, message["id"]) == 40004  # joined after it
    ok(owner.post("/chat/message/delete", {"message_id": message["id"]}))
    assert readers_code(owner, message["id"]) == 40004  # deleted it for themself
    ok(ann.post("/group/leave", {"group_id": group_id}))
    assert readers_code(ann, message["id"]) == 40004  # the sender, no longer a member


def test_private_messages_are_40000(actor, befriend):
    alice, bob = actor("alice"), actor("bob")
    befriend(alice, bob)
    message = alice.send_to_user(bob)
    response = alice.get("/chat/message/readers", {"message_id": message["id"]}).json()
    assert response["code"] == 40000 and "message_id" in response["message"]
    assert readers_code(bob, message["id"]) == 40000


def test_only_members_who_could_see_it_are_counted(team, actor):
    group_id, owner = team["group"], team["owner"]
    ann, ben, cat = team["ann"], team["ben"], team["cat"]
    message = owner.send_to_group(group_id)
    newcomer = actor("newcomer")
    ok(owner.post("/group/invite", {"group_id": group_id, "user_ids": [newcomer.id]}))
    read(newcomer, group_id)  # read past it, but joined after it
    ok(ann.post("/chat/message/delete", {"message_id": message["id"]}))  # still counts
    ok(ben.post("/chat/conversation/delete", {"target_id": group_id, "chat_type": 1}))  # cleared
    ok(cat.post("/group/leave", {"group_id": group_id}))  # no longer a member
    assert readers(owner, message["id"]) == {
        "read_user_ids": [],
        "unread_user_ids": sorted([team["admin"].id, ann.id]),
        "read_count": 0,
        "unread_count": 2,
    }


def test_a_recalled_message_still_answers(team):
    group_id, owner, ann = team["group"], team["owner"], team["ann"]
    message = ann.send_to_group(group_id)
    read(team["ben"], group_id)
    ok(ann.post("/chat/message/recall", {"message_id": message["id"]}))
    assert readers(owner, message["id"])["read_user_ids"] == [team["ben"].id]


@pytest.mark.parametrize("params", [{}, {"message_id": "abc"}, {"message_id": "0"}])
def test_bad_message_id_is_40000(team, params):
    response = team["owner"].get("/chat/message/readers", params).json()
    assert response["code"] == 40000 and "message_id" in response["message"]


def test_readers_take_a_constant_number_of_queries(
    actor, make_group, django_assert_max_num_queries
):
    owner = actor("owner")
    few = [actor() for _ in range(2)]
    many = [actor() for _ in range(15)]
    counts = []
    for members in (few, many):
        group_id = make_group(owner, *members)
        message = owner.send_to_group(group_id)
        for member in members[::2]:
            read(member, group_id)
        with django_assert_max_num_queries(8) as captured:
            data = readers(owner, message["id"])
        assert data["read_count"] + data["unread_count"] == len(members)
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]
