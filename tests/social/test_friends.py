"""4.3 list, 4.4 delete, 4.5 block, unblock (an addition), 4.6 blocked list, 4.7 remark."""

import pytest

from social import selectors, services
from social.models import Friendship

pytestmark = pytest.mark.django_db

FRIEND_FIELDS = {
    "id",
    "user_id",
    "friend_id",
    "status",
    "create_at",
    "update_at",
    "nickname",
    "avatar",
    "online_status",
    "remark",
}
BLOCKED_FIELDS = {"id", "user_id", "friend_id", "remark", "status", "create_at", "update_at"}


def friendship_pairs():
    return sorted(Friendship.objects.values_list("user_id", "friend_id", "status", "is_friend"))


def friend_ids_listed(client):
    return [friend["friend_id"] for friend in client.get("/friend/list").json()["data"]["friends"]]


def blocked_ids_listed(client):
    data = client.get("/friend/blocked/list").json()["data"]
    return [row["friend_id"] for row in data["friends"]]


def post(client, path, body):
    return client.post(path, body, format="json")


# --- 4.3 list -------------------------------------------------------------------------------


def test_friend_list_shows_every_documented_field_with_remark_and_presence(
    alice, bob, make_user, client_for, befriend, mark_online
):
    carol = make_user("carol", nickname="Carol")
    befriend(alice, bob)
    befriend(carol, alice)
    services.friend_set_remark(user=alice, user_id=bob.pk, remark="Bobby")
    mark_online(carol.pk)

    data = client_for(alice).get("/friend/list").json()["data"]

    assert data["total"] == 2
    by_friend = {friend["friend_id"]: friend for friend in data["friends"]}
    assert all(set(friend) == FRIEND_FIELDS for friend in data["friends"])
    row = Friendship.objects.get(user=alice, friend=bob)
    assert by_friend[bob.pk] == {
        "id": row.pk,
        "user_id": alice.pk,
        "friend_id": bob.pk,
        "status": 1,
        "create_at": int(row.created_at.timestamp()),
        "update_at": int(row.updated_at.timestamp()),
        "nickname": "Bob",
        "avatar": "https://e.com/bob.png",
        "online_status": 0,
        "remark": "Bobby",
    }
    assert (by_friend[carol.pk]["online_status"], by_friend[carol.pk]["remark"]) == (1, "")


def test_friend_list_shows_a_friend_who_blocked_me_offline(
    alice, bob, make_user, client_for, befriend, mark_online
):
    carol = make_user("carol")
    befriend(alice, bob)
    befriend(alice, carol)
    services.friend_block(user=bob, friend_id=alice.pk)
    mark_online(bob.pk)
    mark_online(carol.pk)
    friends = client_for(alice).get("/friend/list").json()["data"]["friends"]
    assert {f["friend_id"]: f["online_status"] for f in friends} == {bob.pk: 0, carol.pk: 1}
    # Bob does not list alice, whom he blocked (only his blocked list has her).
    assert client_for(bob).get("/friend/list").json()["data"]["friends"] == []
    services.friend_unblock(user=bob, friend_id=alice.pk)
    friends = client_for(alice).get("/friend/list").json()["data"]["friends"]
    assert {f["friend_id"]: f["online_status"] for f in friends} == {bob.pk: 1, carol.pk: 1}


def test_empty_friend_list(alice, client_for):
    assert client_for(alice).get("/friend/list").json()["data"] == {"friends": [], "total": 0}


@pytest.mark.parametrize("friend_count", [1, 25])
def test_friend_list_queries_do_not_grow_with_friends(
    alice, make_user, client_for, befriend, django_assert_max_num_queries, friend_count
):
    for _ in range(friend_count):
        befriend(make_user(), alice)
    client = client_for(alice)
    with django_assert_max_num_queries(2):  # the token's user, the friendships with their users
        data = client.get("/friend/list").json()["data"]
    assert data["total"] == friend_count


# --- 4.4 delete -----------------------------------------------------------------------------


def test_delete_with_a_json_body_removes_both_directions(alice, bob, client_for, befriend):
    befriend(alice, bob)
    response = client_for(alice).delete("/friend/delete", {"friend_id": bob.pk}, format="json")
    assert response.json() == {
        "code": 20000,
        "message": "success",
        "data": {"message": "好友已删除"},
    }
    assert friendship_pairs() == []
    assert friend_ids_listed(client_for(bob)) == []


def test_delete_with_the_query_string(alice, bob, client_for, befriend):
    befriend(alice, bob)
    response = client_for(alice).delete(f"/friend/delete?friend_id={bob.pk}")
    assert response.json()["code"] == 20000
    assert friendship_pairs() == []


def test_deleting_someone_who_is_not_my_friend_is_40004(alice, bob, client_for):
    response = client_for(alice).delete("/friend/delete", {"friend_id": bob.pk}, format="json")
    assert (response.status_code, response.json()["code"]) == (404, 40004)


def test_deleting_someone_i_only_blocked_is_40004_and_keeps_the_block(alice, bob, client_for):
    services.friend_block(user=alice, friend_id=bob.pk)
    response = client_for(alice).delete("/friend/delete", {"friend_id": bob.pk}, format="json")
    assert response.json()["code"] == 40004
    assert selectors.has_blocked(alice.pk, bob.pk)


@pytest.mark.parametrize(
    ("query", "code"),
    [("", 40000), ("?friend_id=abc", 40000), ("?friend_id=999999", 40004)],
)
def test_delete_refusals(alice, client_for, query, code):
    response = client_for(alice).delete(f"/friend/delete{query}")
    assert response.json()["code"] == code


def test_delete_yourself_is_40000(alice, client_for):
    response = client_for(alice).delete(f"/friend/delete?friend_id={alice.pk}")
    assert response.json()["code"] == 40000
    assert "friend_id" in response.json()["message"]


def test_deleting_a_friend_keeps_either_sides_block(alice, bob, client_for, befriend):
    befriend(alice, bob)
    services.friend_block(user=bob, friend_id=alice.pk)
    assert client_for(alice).delete(f"/friend/delete?friend_id={bob.pk}").json()["code"] == 20000
    assert friendship_pairs() == [(bob.pk, alice.pk, 2, False)]
    assert not selectors.are_friends(alice.pk, bob.pk)
    assert selectors.has_blocked(bob.pk, alice.pk)
    # A former friend stays a former friend when the block is lifted.
    services.friend_unblock(user=bob, friend_id=alice.pk)
    assert friendship_pairs() == []


def test_delete_uses_the_delete_method(alice, bob, client_for, befriend):
    befriend(alice, bob)
    response = post(client_for(alice), "/friend/delete", {"friend_id": bob.pk})
    assert (response.status_code, response.json()["code"]) == (405, 40000)


# --- 4.5 block, unblock ---------------------------------------------------------------------


def test_blocking_a_friend_sets_only_my_row(alice, bob, client_for, befriend):
    befriend(alice, bob)
    response = post(client_for(alice), "/friend/block", {"friend_id": str(bob.pk)})
    assert response.json()["data"] == {"message": "已拉黑"}
    assert friendship_pairs() == [(alice.pk, bob.pk, 2, True), (bob.pk, alice.pk, 1, True)]
    assert friend_ids_listed(client_for(alice)) == []
    assert blocked_ids_listed(client_for(alice)) == [bob.pk]
    assert friend_ids_listed(client_for(bob)) == [alice.pk]
    assert selectors.are_friends(alice.pk, bob.pk)
    assert selectors.has_blocked(alice.pk, bob.pk) and not selectors.has_blocked(bob.pk, alice.pk)


def test_blocking_a_stranger_creates_a_blocked_row_that_is_no_friendship(alice, bob, client_for):
    assert post(client_for(alice), "/friend/block", {"friend_id": bob.pk}).json()["code"] == 20000
    assert friendship_pairs() == [(alice.pk, bob.pk, 2, False)]
    assert not selectors.are_friends(alice.pk, bob.pk)
    assert blocked_ids_listed(client_for(alice)) == [bob.pk]
    assert friend_ids_listed(client_for(alice)) == []


def test_blocking_twice_is_40009(alice, bob, client_for):
    post(client_for(alice), "/friend/block", {"friend_id": bob.pk})
    response = post(client_for(alice), "/friend/block", {"friend_id": bob.pk})
    assert (response.status_code, response.json()["code"]) == (409, 40009)


@pytest.mark.parametrize("path", ["/friend/block", "/friend/unblock"])
@pytest.mark.parametrize(("friend_id", "code"), [(None, 40000), ("x", 40000), (999999, 40004)])
def test_block_and_unblock_refusals(alice, client_for, path, friend_id, code):
    body = {} if friend_id is None else {"friend_id": friend_id}
    assert post(client_for(alice), path, body).json()["code"] == code


@pytest.mark.parametrize("path", ["/friend/block", "/friend/unblock"])
def test_block_and_unblock_yourself_is_40000(alice, client_for, path):
    assert post(client_for(alice), path, {"friend_id": alice.pk}).json()["code"] == 40000


def test_unblocking_a_friend_restores_the_friendship_with_its_remark(
    alice, bob, client_for, befriend
):
    befriend(alice, bob)
    services.friend_set_remark(user=alice, user_id=bob.pk, remark="Bobby")
    post(client_for(alice), "/friend/block", {"friend_id": bob.pk})
    response = post(client_for(alice), "/friend/unblock", {"friend_id": bob.pk})
    assert response.json()["data"] == {"message": "已取消拉黑"}
    assert friendship_pairs() == [(alice.pk, bob.pk, 1, True), (bob.pk, alice.pk, 1, True)]
    [friend] = client_for(alice).get("/friend/list").json()["data"]["friends"]
    assert (friend["friend_id"], friend["remark"]) == (bob.pk, "Bobby")
    assert blocked_ids_listed(client_for(alice)) == []


def test_unblocking_a_stranger_does_not_make_a_friend(alice, bob, client_for):
    post(client_for(alice), "/friend/block", {"friend_id": bob.pk})
    assert post(client_for(alice), "/friend/unblock", {"friend_id": bob.pk}).json()["code"] == 20000
    assert friendship_pairs() == []
    assert friend_ids_listed(client_for(alice)) == []


def test_unblocking_when_both_blocked_each_other_as_strangers(alice, bob, client_for):
    post(client_for(alice), "/friend/block", {"friend_id": bob.pk})
    post(client_for(bob), "/friend/block", {"friend_id": alice.pk})
    post(client_for(alice), "/friend/unblock", {"friend_id": bob.pk})
    assert friendship_pairs() == [(bob.pk, alice.pk, 2, False)]
    assert not selectors.are_friends(alice.pk, bob.pk)


def test_unblocking_someone_not_blocked_is_40004(alice, bob, client_for, befriend):
    befriend(alice, bob)
    response = post(client_for(alice), "/friend/unblock", {"friend_id": bob.pk})
    assert (response.status_code, response.json()["code"]) == (404, 40004)
    assert friendship_pairs() == [(alice.pk, bob.pk, 1, True), (bob.pk, alice.pk, 1, True)]


# --- 4.6 blocked list -----------------------------------------------------------------------


def test_blocked_list_shows_exactly_the_documented_fields(alice, bob, make_user, client_for):
    carol = make_user("carol")
    services.friend_block(user=alice, friend_id=bob.pk)
    services.friend_block(user=alice, friend_id=carol.pk)
    services.friend_block(user=bob, friend_id=alice.pk)  # bob's block is not in alice's list
    data = client_for(alice).get("/friend/blocked/list").json()["data"]
    assert data["total"] == 2
    assert [row["friend_id"] for row in data["friends"]] == [carol.pk, bob.pk]  # latest first
    row = Friendship.objects.get(user=alice, friend=bob)
    assert data["friends"][1] == {
        "id": row.pk,
        "user_id": alice.pk,
        "friend_id": bob.pk,
        "remark": "",
        "status": 2,
        "create_at": int(row.created_at.timestamp()),
        "update_at": int(row.updated_at.timestamp()),
    }
    assert set(data["friends"][0]) == BLOCKED_FIELDS


@pytest.mark.parametrize("blocked_count", [1, 25])
def test_blocked_list_queries_do_not_grow(
    alice, make_user, client_for, django_assert_max_num_queries, blocked_count
):
    for _ in range(blocked_count):
        services.friend_block(user=alice, friend_id=make_user().pk)
    client = client_for(alice)
    with django_assert_max_num_queries(2):
        assert client.get("/friend/blocked/list").json()["data"]["total"] == blocked_count


# --- 4.7 remark -----------------------------------------------------------------------------


def put_remark(client, user_id, remark):
    return client.put("/friend/remark", {"user_id": user_id, "remark": remark}, format="json")


def test_remark_is_mine_only_and_can_be_cleared(alice, bob, client_for, befriend):
    befriend(alice, bob)
    response = put_remark(client_for(alice), str(bob.pk), "  老同学 ")
    assert response.json()["data"] == {"message": "备注已更新"}
    assert Friendship.objects.get(user=alice, friend=bob).remark == "老同学"
    assert Friendship.objects.get(user=bob, friend=alice).remark == ""
    assert put_remark(client_for(alice), bob.pk, "").json()["code"] == 20000
    assert Friendship.objects.get(user=alice, friend=bob).remark == ""


def test_remark_on_a_blocked_friend_shows_in_the_blocked_list(alice, bob, client_for, befriend):
    befriend(alice, bob)
    services.friend_block(user=alice, friend_id=bob.pk)
    assert put_remark(client_for(alice), bob.pk, "later").json()["code"] == 20000
    [row] = client_for(alice).get("/friend/blocked/list").json()["data"]["friends"]
    assert row["remark"] == "later"


def test_remark_for_a_non_friend_is_40004(alice, bob, client_for):
    assert put_remark(client_for(alice), bob.pk, "x").json()["code"] == 40004
    services.friend_block(user=alice, friend_id=bob.pk)
    assert put_remark(client_for(alice), bob.pk, "x").json()["code"] == 40004
    assert put_remark(client_for(alice), 999999, "x").json()["code"] == 40004


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"remark": "x"}, "user_id"),
        ({"user_id": 1}, "remark"),
        ({"user_id": 1, "remark": "r" * 51}, "remark"),
    ],
)
def test_remark_validates_its_parameters(alice, client_for, body, field):
    response = client_for(alice).put("/friend/remark", body, format="json")
    assert response.json()["code"] == 40000
    assert response.json()["message"].startswith(f"参数错误: {field}: ")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/friend/list"),
        ("delete", "/friend/delete"),
        ("post", "/friend/block"),
        ("post", "/friend/unblock"),
        ("get", "/friend/blocked/list"),
        ("put", "/friend/remark"),
        ("post", "/friend/request/handle"),
    ],
)
def test_every_friend_endpoint_needs_a_token(api_client, method, path):
    response = getattr(api_client, method)(path)
    assert (response.status_code, response.json()["code"]) == (401, 40001)
