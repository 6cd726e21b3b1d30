"""The 6.1 friend request object, as the inbox lists it and the ``friend_request*`` pushes carry
it. Needs ``from_user`` and ``to_user`` loaded."""

from typing import Any

from social.models import FriendRequest


def friend_request_data(friend_request: FriendRequest) -> dict[str, Any]:
    return {
        "id": friend_request.pk,
        "from_user_id": friend_request.from_user_id,
        "to_user_id": friend_request.to_user_id,
        "message": friend_request.message,
        "status": friend_request.status,
        "create_at": int(friend_request.created_at.timestamp()),
        "update_at": int(friend_request.updated_at.timestamp()),
        "from_nickname": friend_request.from_user.nickname,
        "from_avatar": friend_request.from_user.avatar,
        "to_nickname": friend_request.to_user.nickname,
        "to_avatar": friend_request.to_user.avatar,
        "handle_message": friend_request.handle_message,
    }
