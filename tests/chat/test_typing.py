"""Who a ``typing`` frame reaches, and who may send one: the rules of sending a message there
(CONTRACT 12: a muted group member's typing frames are refused like their messages)."""

import pytest

from chat import selectors
from chat.frames import typing_from_frame
from imserver.api.errors import AppError, ErrorCode
from tests.chat.conftest import ok

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(actor, make_group):
    owner, member, other = actor("owner"), actor("member"), actor("other")
    return owner, member, other, make_group(owner, member, other)


def mute(owner, member, group_id: int, duration: int) -> None:
    body = {"group_id": group_id, "user_id": member.id, "duration": duration}
    ok(owner.post("/group/mute/member", body))


def refusal(function, *args, **kwargs) -> AppError:
    with pytest.raises(AppError) as refused:
        function(*args, **kwargs)
    return refused.value


def test_group_typing_reaches_everyone_else(team):
    owner, member, other, group_id = team
    recipients = selectors.typing_recipients(user=member.user, chat_type=1, target_id=group_id)
    assert sorted(recipients) == sorted([owner.id, other.id])


def test_a_muted_member_typing_is_refused_as_their_message_is(team):
    owner, member, _other, group_id = team
    mute(owner, member, group_id, 600)
    typing = refusal(selectors.typing_recipients, user=member.user, chat_type=1, target_id=group_id)
    send = member.post("/chat/send", {"group_id": group_id, "chat_type": 1, "content": "x"}).json()
    assert (typing.error_code, send["code"]) == (ErrorCode.FORBIDDEN, 40003)
    # The same words: "muted ... for another N seconds".
    assert str(typing.detail).replace("599", "600") == send["message"].replace("599", "600")

    frame = refusal(typing_from_frame, member.user, {"chat_type": 1, "target_id": group_id})
    assert frame.error_code == ErrorCode.FORBIDDEN

    mute(owner, member, group_id, 0)  # unmuted: typing goes through again
    recipients, payload = typing_from_frame(member.user, {"chat_type": 1, "target_id": group_id})
    assert owner.id in recipients and member.id not in recipients
    assert payload == {"user_id": member.id, "chat_type": 1, "target_id": group_id}


def test_typing_of_a_non_member_is_refused(team, actor):
    _owner, _member, _other, group_id = team
    outsider = actor("outsider")
    frame = refusal(typing_from_frame, outsider.user, {"chat_type": 1, "target_id": group_id})
    assert frame.error_code == ErrorCode.FORBIDDEN
