"""CONTRACT 10 through a real server process: the ``message`` frame with a reply and mentions,
and the ``reaction`` and ``edit`` pushes, as ``websockets`` clients see them."""

import asyncio
from collections.abc import Iterator

import pytest

from tests.e2e.test_ws_rules import LAYERS, StartServer, start_server  # noqa: F401  (fixture)
from tests.e2e.ws_clients import User


@pytest.fixture
def group(request: pytest.FixtureRequest) -> Iterator[tuple]:
    start: StartServer = request.getfixturevalue("start_server")
    server = start(request.param)
    owner, member = User(server, "owner"), User(server, "member")
    group_id = owner.call("POST", "/group/create", {"group_name": "team"})["group_id"]
    owner.call("POST", "/group/invite", {"group_id": group_id, "user_ids": [member.id]})
    yield server, owner, member, group_id


@pytest.mark.parametrize("group", LAYERS, indirect=True)
def test_a_reply_with_mentions_sent_as_a_frame_reaches_the_group(group: tuple) -> None:
    server, owner, member, group_id = group
    question = owner.call(
        "POST",
        "/chat/send",
        {"group_id": group_id, "chat_type": 1, "type": 0, "content": "who is in?"},
    )

    async def scenario() -> None:
        owner_socket, member_socket = await owner.socket(), await member.socket()
        frame = {
            "type": "message",
            "data": {
                "group_id": group_id,
                "chat_type": 1,
                "type": 0,
                "content": "@owner me",
                "client_msg_id": "reply-1",
                "reply_to": question["id"],
                "mentions": [owner.id, owner.id],
            },
        }
        ack = await member_socket.answer_to(frame, "ack")
        pushed = await owner_socket.next("message")
        assert pushed["message_id"] == ack["message_id"]
        assert pushed["reply_to"]["message_id"] == question["id"]
        assert pushed["reply_to"]["content"] == "who is in?"
        assert (pushed["mentions"], pushed["mention_all"]) == ([owner.id], False)
        assert (pushed["reactions"], pushed["edited_at"], pushed["forwarded"]) == ([], None, False)

        # mention_all is the owner's and admins': a member's frame gets an error, and the
        # socket stays open
        refused = {**frame["data"], "client_msg_id": "reply-2", "mention_all": True}
        error = await member_socket.answer_to({"type": "message", "data": refused})
        assert (error["code"], error["client_msg_id"]) == (40003, "reply-2")
        error = await member_socket.answer_to(
            {"type": "message", "data": {**frame["data"], "mentions": "all"}}
        )
        assert error["code"] == 40000 and "mentions" in error["message"]
        assert await member_socket.alive()

        # the pushes of reactions and edits, to every member's sockets
        member.call("POST", "/chat/message/react", {"message_id": ack["message_id"], "emoji": "👍"})
        for socket in (owner_socket, member_socket):
            reaction = await socket.next("reaction")
            assert reaction["message_id"] == ack["message_id"]
            assert (reaction["emoji"], reaction["action"], reaction["count"]) == ("👍", "add", 1)
        member.call(
            "POST", "/chat/message/edit", {"message_id": ack["message_id"], "content": "me too"}
        )
        for socket in (owner_socket, member_socket):
            edit = await socket.next("edit")
            assert (edit["message_id"], edit["content"]) == (ack["message_id"], "me too")
            assert isinstance(edit["edited_at"], int)
        await owner_socket.close()
        await member_socket.close()

    asyncio.run(scenario())
    assert "Traceback" not in server.output(), server.output()[-4000:]


@pytest.mark.parametrize("group", ["memory"], indirect=True)
def test_the_limits_and_codes_of_sections_10_and_11_through_the_server(group: tuple) -> None:
    """What a client sees of the limits and codes through a real process: the 10-emoji cap and
    the 32-code-point emoji, edits by the sender only, who may ask for readers, mute and the
    badge, and the search's bounds (keyword length, limit, chat_type with target_id)."""
    server, owner, member, group_id = group
    sent = member.call(
        "POST", "/chat/send", {"group_id": group_id, "chat_type": 1, "content": "找到我 needle"}
    )
    message_id = sent["id"]
    for n in range(10):
        member.call("POST", "/chat/message/react", {"message_id": message_id, "emoji": f"e{n}"})
    eleventh = member.answer(
        "POST", "/chat/message/react", {"message_id": message_id, "emoji": "x"}
    )
    assert eleventh["code"] == 40000 and "emoji" in eleventh["message"]
    assert (
        member.answer("POST", "/chat/message/react", {"message_id": message_id, "emoji": "x" * 33})[
            "code"
        ]
        == 40000
    )
    assert (
        owner.answer("POST", "/chat/message/edit", {"message_id": message_id, "content": "y"})[
            "code"
        ]
        == 40003
    )
    readers = owner.call("GET", f"/chat/message/readers?message_id={message_id}")
    assert (readers["read_user_ids"], readers["unread_user_ids"]) == ([], [owner.id])
    own = owner.call("POST", "/chat/send", {"group_id": group_id, "chat_type": 1, "content": "o"})
    assert member.answer("GET", f"/chat/message/readers?message_id={own['id']}")["code"] == 40003
    muted = owner.call(
        "POST", "/chat/conversation/mute", {"target_id": group_id, "chat_type": 1, "is_muted": True}
    )
    assert muted["is_muted"] is True
    assert owner.call("GET", "/chat/unread-count") == {
        "unread_count": 0,
        "muted_unread_count": 0,
        "mention_count": 0,
    }
    found = owner.call("GET", "/chat/search?keyword=%E6%89%BE%E5%88%B0&limit=500")
    assert [m["id"] for m in found["messages"]] == [message_id]
    assert found["messages"][0]["conversation"]["target_id"] == group_id
    too_long = owner.answer("GET", "/chat/search?keyword=" + "k" * 101)
    assert too_long["code"] == 40000 and "keyword" in too_long["message"]
    assert owner.answer("GET", "/chat/search?keyword=k&limit=0")["code"] == 40000
    assert owner.answer("GET", "/chat/search?keyword=k&chat_type=1")["code"] == 40000
    assert "Traceback" not in server.output(), server.output()[-4000:]
