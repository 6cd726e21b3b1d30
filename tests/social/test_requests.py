"""4.1 send and 4.2 handle a friend request, with their pushes."""

import pytest

from social import selectors, services
from social.models import FriendRequest, Friendship

pytestmark = pytest.mark.django_db

REQUEST_FIELDS = {
    "id",
    "from_user_id",
    "to_user_id",
    "message",
    "status",
    "create_at",
    "update_at",
    "from_nickname",
    "from_avatar",
    "to_nickname",
    "to_avatar",
    "handle_message",
}


def send(client, to_user_id, message="hi"):
    return client.post(
        "/friend/request/send", {"to_user_id": to_user_id, "message": message}, format="json"
    )


def handle(client, request_id, action, **extra):
    body = {"request_id": request_id, "action": action, **extra}
    return client.post("/friend/request/handle", body, format="json")


def friendship_pairs():
    return sorted(Friendship.objects.values_list("user_id", "friend_id", "status", "is_friend"))


# --- 4.1 send -------------------------------------------------------------------------------


def test_send_creates_a_pending_request_and_pushes_it_to_the_target(
    alice, bob, client_for, push_recorder, django_capture_on_commit_callbacks
):
    push_recorder.listen(alice.pk, bob.pk)
    with django_capture_on_commit_callbacks(execute=True):
        response = send(client_for(alice), str(bob.pk), "  我想加您为好友 ")
    assert response.status_code == 200
    friend_request = FriendRequest.objects.get()
    assert response.json() == {
        "code": 20000,
        "message": "success",
        "data": {"request_id": friend_request.pk},
    }
    assert (friend_request.from_user_id, friend_request.to_user_id) == (alice.pk, bob.pk)
    assert (friend_request.status, friend_request.message, friend_request.is_read) == (
        1,
        "我想加您为好友",
        False,
    )
    [event] = push_recorder.events(bob.pk)
    assert event["type"] == "friend_request"
    assert set(event["data"]) == REQUEST_FIELDS
    assert event["data"] | {"create_at": 0, "update_at": 0} == {
        "id": friend_request.pk,
        "from_user_id": alice.pk,
        "to_user_id": bob.pk,
        "message": "我想加您为好友",
        "status": 1,
        "create_at": 0,
        "update_at": 0,
        "from_nickname": "Alice",
        "from_avatar": "https://e.com/alice.png",
        "to_nickname": "Bob",
        "to_avatar": "https://e.com/bob.png",
        "handle_message": "",
    }
    assert event["data"]["create_at"] == int(friend_request.created_at.timestamp())
    assert push_recorder.events(alice.pk, timeout=0.05) == []


def test_message_is_optional(alice, bob, client_for):
    response = client_for(alice).post("/friend/request/send", {"to_user_id": bob.pk}, format="json")
    assert response.json()["code"] == 20000
    assert FriendRequest.objects.get().message == ""


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "to_user_id"),
        ({"to_user_id": "abc"}, "to_user_id"),
        ({"to_user_id": 0}, "to_user_id"),
        ({"to_user_id": 2, "message": "m" * 256}, "message"),
    ],
)
def test_send_validates_its_parameters(alice, client_for, body, field):
    response = client_for(alice).post("/friend/request/send", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == 40000
    assert response.json()["message"].startswith(f"参数错误: {field}: ")


def test_no_request_to_yourself(alice, client_for):
    response = send(client_for(alice), alice.pk)
    assert (response.status_code, response.json()["code"]) == (400, 40000)
    assert "to_user_id" in response.json()["message"]
    assert not FriendRequest.objects.exists()


def test_unknown_user_is_40004(alice, client_for):
    response = send(client_for(alice), 999999)
    assert (response.status_code, response.json()) == (
        404,
        {"code": 40004, "message": "用户不存在"},
    )


def test_already_friends_is_40009(alice, bob, client_for, befriend):
    befriend(alice, bob)
    response = send(client_for(bob), alice.pk)
    assert (response.status_code, response.json()["code"]) == (409, 40009)


def test_already_friends_also_when_one_side_has_blocked_the_other(alice, bob, client_for, befriend):
    befriend(alice, bob)
    services.friend_block(user=alice, friend_id=bob.pk)
    assert send(client_for(alice), bob.pk).json()["code"] == 40009


def test_target_who_blocked_me_refuses_with_40003(alice, bob, client_for):
    services.friend_block(user=bob, friend_id=alice.pk)
    response = send(client_for(alice), bob.pk)
    assert (response.status_code, response.json()["code"]) == (403, 40003)
    assert not FriendRequest.objects.exists()


def test_a_request_to_someone_i_blocked_asks_to_unblock_first(alice, bob, client_for):
    services.friend_block(user=alice, friend_id=bob.pk)
    response = send(client_for(alice), bob.pk)
    assert (response.status_code, response.json()["code"]) == (400, 40000)
    assert not FriendRequest.objects.exists()


def test_a_second_pending_request_updates_the_message_and_is_unread_again(
    alice, bob, client_for, push_recorder, django_capture_on_commit_callbacks
):
    first = send(client_for(alice), bob.pk, "first").json()["data"]["request_id"]
    client_for(bob).get("/notification/request/friend")
    assert FriendRequest.objects.get().is_read
    push_recorder.listen(bob.pk)
    with django_capture_on_commit_callbacks(execute=True):
        second = send(client_for(alice), bob.pk, "second").json()["data"]["request_id"]
    assert second == first
    friend_request = FriendRequest.objects.get()
    assert (friend_request.message, friend_request.is_read, friend_request.status) == (
        "second",
        False,
        1,
    )
    [event] = push_recorder.events(bob.pk)
    assert (event["type"], event["data"]["id"], event["data"]["message"]) == (
        "friend_request",
        first,
        "second",
    )


def test_a_pending_request_the_other_way_is_accepted_at_once(
    alice, bob, client_for, push_recorder, django_capture_on_commit_callbacks
):
    theirs = send(client_for(bob), alice.pk, "from bob").json()["data"]["request_id"]
    push_recorder.listen(alice.pk, bob.pk)
    with django_capture_on_commit_callbacks(execute=True):
        response = send(client_for(alice), bob.pk, "from alice")
    assert response.json()["data"] == {"request_id": theirs}
    assert FriendRequest.objects.count() == 1
    friend_request = FriendRequest.objects.get()
    assert (friend_request.status, friend_request.handle_message) == (2, "from alice")
    assert friendship_pairs() == [(alice.pk, bob.pk, 1, True), (bob.pk, alice.pk, 1, True)]
    [event] = push_recorder.events(bob.pk)
    assert (event["type"], event["data"]["id"], event["data"]["status"]) == (
        "friend_request_handled",
        theirs,
        2,
    )
    assert push_recorder.events(alice.pk, timeout=0.05) == []


def test_after_a_rejection_a_new_request_is_a_new_one(alice, bob, client_for):
    first = send(client_for(alice), bob.pk).json()["data"]["request_id"]
    handle(client_for(bob), first, 3)
    second = send(client_for(alice), bob.pk).json()["data"]["request_id"]
    assert second != first
    assert dict(FriendRequest.objects.values_list("id", "status")) == {first: 3, second: 1}


def test_send_needs_a_token(api_client, bob):
    response = send(api_client, bob.pk)
    assert (response.status_code, response.json()["code"]) == (401, 40001)


def test_send_answers_in_english_on_request(alice, client_for):
    response = client_for(alice).post(
        "/friend/request/send", {"to_user_id": 999999}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.json() == {"code": 40004, "message": "User not found"}


# --- 4.2 handle -----------------------------------------------------------------------------


def test_accept_makes_both_users_friends_and_tells_the_requester(
    alice, bob, client_for, push_recorder, django_capture_on_commit_callbacks
):
    request_id = send(client_for(alice), bob.pk).json()["data"]["request_id"]
    push_recorder.listen(alice.pk, bob.pk)
    with django_capture_on_commit_callbacks(execute=True):
        response = handle(client_for(bob), str(request_id), "2", message="welcome")
    data = response.json()["data"]
    assert set(data) == REQUEST_FIELDS
    assert (data["id"], data["status"], data["handle_message"]) == (request_id, 2, "welcome")
    assert friendship_pairs() == [(alice.pk, bob.pk, 1, True), (bob.pk, alice.pk, 1, True)]
    assert selectors.are_friends(alice.pk, bob.pk) and selectors.are_friends(bob.pk, alice.pk)
    [event] = push_recorder.events(alice.pk)
    assert event == {"type": "friend_request_handled", "data": data}
    assert push_recorder.events(bob.pk, timeout=0.05) == []


def test_reject_keeps_the_reason_and_makes_no_friendship(
    alice, bob, client_for, push_recorder, django_capture_on_commit_callbacks
):
    request_id = send(client_for(alice), bob.pk).json()["data"]["request_id"]
    push_recorder.listen(alice.pk)
    with django_capture_on_commit_callbacks(execute=True):
        data = handle(client_for(bob), request_id, 3, message="sorry").json()["data"]
    assert (data["status"], data["handle_message"]) == (3, "sorry")
    friend_request = FriendRequest.objects.get()
    assert (friend_request.status, friend_request.handle_message) == (3, "sorry")
    assert not Friendship.objects.exists()
    [event] = push_recorder.events(alice.pk)
    assert (event["type"], event["data"]["status"]) == ("friend_request_handled", 3)


def test_only_the_recipient_may_handle_others_get_40004(alice, bob, make_user, client_for):
    request_id = send(client_for(alice), bob.pk).json()["data"]["request_id"]
    for outsider in (alice, make_user("carol")):
        response = handle(client_for(outsider), request_id, 2)
        assert (response.status_code, response.json()["code"]) == (404, 40004)
    assert FriendRequest.objects.get().status == 1
    assert not Friendship.objects.exists()


def test_unknown_request_is_40004(alice, client_for):
    assert handle(client_for(alice), 999999, 2).json()["code"] == 40004


@pytest.mark.parametrize("second_action", [2, 3])
def test_an_already_handled_request_is_40009(alice, bob, client_for, second_action):
    request_id = send(client_for(alice), bob.pk).json()["data"]["request_id"]
    assert handle(client_for(bob), request_id, 2).json()["code"] == 20000
    response = handle(client_for(bob), request_id, second_action)
    assert (response.status_code, response.json()["code"]) == (409, 40009)
    assert FriendRequest.objects.get().status == 2
    assert Friendship.objects.count() == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": 2}, "request_id"),
        ({"request_id": "x", "action": 2}, "request_id"),
        ({"request_id": 1}, "action"),
        ({"request_id": 1, "action": 1}, "action"),
        ({"request_id": 1, "action": 4}, "action"),
        ({"request_id": 1, "action": "accept"}, "action"),
        ({"request_id": 1, "action": 2, "message": "m" * 256}, "message"),
    ],
)
def test_handle_validates_its_parameters(alice, client_for, body, field):
    response = client_for(alice).post("/friend/request/handle", body, format="json")
    assert (response.status_code, response.json()["code"]) == (400, 40000)
    assert response.json()["message"].startswith(f"参数错误: {field}: ")


def test_accepting_keeps_a_block_the_recipient_set_meanwhile(alice, bob, client_for):
    request_id = send(client_for(alice), bob.pk).json()["data"]["request_id"]
    services.friend_block(user=bob, friend_id=alice.pk)
    assert handle(client_for(bob), request_id, 2).json()["code"] == 20000
    assert friendship_pairs() == [(alice.pk, bob.pk, 1, True), (bob.pk, alice.pk, 2, True)]
    # Unblocking now restores the friendship that exists.
    services.friend_unblock(user=bob, friend_id=alice.pk)
    assert friendship_pairs() == [(alice.pk, bob.pk, 1, True), (bob.pk, alice.pk, 1, True)]
