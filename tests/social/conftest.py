from collections.abc import Callable

import pytest

from accounts.models import User
from social import services
from social.models import FriendRequest


@pytest.fixture
def befriend() -> Callable[[User, User], None]:
    """Make two users friends the way clients do: a request, then an accept."""

    def make(user: User, other: User) -> None:
        friend_request = services.friend_request_send(from_user=user, to_user_id=other.pk)
        services.friend_request_handle(
            user=other, request_id=friend_request.pk, action=FriendRequest.Status.ACCEPTED
        )

    return make


@pytest.fixture
def alice(make_user) -> User:
    return make_user("alice", nickname="Alice", avatar="https://e.com/alice.png")


@pytest.fixture
def bob(make_user) -> User:
    return make_user("bob", nickname="Bob", avatar="https://e.com/bob.png")
