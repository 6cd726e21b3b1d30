"""6.1 the friend requests sent to me (marking them read) and 6.2 their unread count."""

import pytest

from social import services
from social.models import FriendRequest

pytestmark = pytest.mark.django_db

INBOX = "/notification/request/friend"
UNREAD = "/notification/request/friend/unread-count"


def send(user, to_user, message=""):
    return services.friend_request_send(from_user=user, to_user_id=to_user.pk, message=message)


def unread_count(client):
    return client.get(UNREAD).json()["data"]["count"]


def test_inbox_lists_requests_to_me_newest_first_in_every_state(alice, bob, make_user, client_for):
    carol, dave = make_user("carol"), make_user("dave")
    first = send(bob, alice, "from bob")
    second = send(carol, alice, "from carol")
    services.friend_request_handle(user=alice, request_id=second.pk, action=3)
    third = send(dave, alice)
    send(alice, make_user("erin"))  # sent by me: not in my inbox

    data = client_for(alice).get(INBOX).json()["data"]

    assert data["total"] == 3
    assert [row["id"] for row in data["requests"]] == [third.pk, second.pk, first.pk]
    assert [row["status"] for row in data["requests"]] == [1, 3, 1]
    first.refresh_from_db()
    assert data["requests"][2] == {
        "id": first.pk,
        "from_user_id": bob.pk,
        "to_user_id": alice.pk,
        "message": "from bob",
        "status": 1,
        "create_at": int(first.created_at.timestamp()),
        "update_at": int(first.updated_at.timestamp()),
        "from_nickname": "Bob",
        "from_avatar": "https://e.com/bob.png",
        "to_nickname": "Alice",
        "to_avatar": "https://e.com/alice.png",
        "handle_message": "",
    }


def test_newest_first_holds_within_the_same_second(alice, make_user, client_for):
    senders = [make_user() for _ in range(5)]
    created = [send(sender, alice).pk for sender in senders]
    FriendRequest.objects.update(created_at=FriendRequest.objects.first().created_at)
    rows = client_for(alice).get(INBOX).json()["data"]["requests"]
    assert [row["id"] for row in rows] == created[::-1]


def test_listing_marks_requests_read_and_the_count_drops(alice, bob, make_user, client_for):
    client = client_for(alice)
    send(bob, alice)
    send(make_user("carol"), alice)
    assert unread_count(client) == 2
    client.get(INBOX)
    assert unread_count(client) == 0
    assert not FriendRequest.objects.filter(is_read=False).exists()


def test_the_count_is_pending_requests_only(alice, bob, make_user, client_for):
    handled = send(make_user("carol"), alice)
    services.friend_request_handle(user=alice, request_id=handled.pk, action=3)
    send(bob, alice)
    send(alice, make_user("dave"))  # my own request does not count for me
    assert client_for(alice).get(UNREAD).json() == {
        "code": 20000,
        "message": "success",
        "data": {"count": 1},
    }


def test_a_renewed_request_counts_again(alice, bob, client_for):
    client = client_for(alice)
    send(bob, alice, "first")
    client.get(INBOX)
    send(bob, alice, "again")
    assert unread_count(client) == 1
    [row] = client.get(INBOX).json()["data"]["requests"]
    assert row["message"] == "again"
    assert unread_count(client) == 0


def test_pages_and_only_the_listed_page_is_marked_read(alice, make_user, client_for):
    created = [send(make_user(), alice).pk for _ in range(5)]
    client = client_for(alice)
    data = client.get(INBOX, {"page": 2, "page_size": 2}).json()["data"]
    assert data["total"] == 5
    assert [row["id"] for row in data["requests"]] == [created[2], created[1]]
    assert unread_count(client) == 3
    assert set(FriendRequest.objects.filter(is_read=True).values_list("id", flat=True)) == {
        created[2],
        created[1],
    }
    assert client.get(INBOX, {"page": 9}).json()["data"] == {"requests": [], "total": 5}


def test_listing_does_not_change_update_at(alice, bob, client_for):
    friend_request = send(bob, alice)
    client_for(alice).get(INBOX)
    assert FriendRequest.objects.get().updated_at == friend_request.updated_at


@pytest.mark.parametrize(
    ("params", "field"),
    [({"page": 0}, "page"), ({"page_size": 501}, "page_size"), ({"page_size": "x"}, "page_size")],
)
def test_bad_paging_is_40000(alice, client_for, params, field):
    response = client_for(alice).get(INBOX, params)
    assert response.json()["code"] == 40000
    assert field in response.json()["message"]


@pytest.mark.parametrize("request_count", [1, 30])
def test_inbox_queries_do_not_grow(
    alice, make_user, client_for, django_assert_max_num_queries, request_count
):
    for _ in range(request_count):
        send(make_user(), alice)
    client = client_for(alice)
    # token user, savepoint, count, page (locked), mark read, release savepoint
    with django_assert_max_num_queries(6):
        assert client.get(INBOX).json()["data"]["total"] == request_count
    with django_assert_max_num_queries(2):
        assert unread_count(client) == 0


@pytest.mark.parametrize("path", [INBOX, UNREAD])
def test_notifications_need_a_token(api_client, path):
    assert api_client.get(path).json()["code"] == 40001
