"""Staff find friendships and friend requests in the admin."""

import pytest

from social import services
from social.models import Friendship

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(alice, bob, make_user, befriend):
    befriend(alice, bob)
    services.friend_block(user=alice, friend_id=make_user("carol").pk)
    return services.friend_request_send(
        from_user=make_user("dave"), to_user_id=alice.pk, message="let me in"
    )


@pytest.mark.parametrize("model", ["friendship", "friendrequest"])
def test_changelist_search_and_filters(staff_client, data, model):
    base = f"/admin/social/{model}/"
    assert staff_client.get(base).status_code == 200
    response = staff_client.get(base, {"q": "alice"})
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1
    response = staff_client.get(base, {"q": "nobody-matches"})
    assert response.context["cl"].result_count == 0
    assert staff_client.get(base, {"status__exact": "2"}).status_code == 200


def test_friendship_change_page(staff_client, data, alice, bob):
    row = Friendship.objects.get(user=alice, friend=bob)
    response = staff_client.get(f"/admin/social/friendship/{row.pk}/change/")
    assert response.status_code == 200


def test_friend_request_change_page(staff_client, data):
    response = staff_client.get(f"/admin/social/friendrequest/{data.pk}/change/")
    assert response.status_code == 200
    assert "let me in" in response.content.decode()


def test_admin_needs_staff(client, alice):
    client.force_login(alice)
    response = client.get("/admin/social/friendship/")
    assert response.status_code == 302
