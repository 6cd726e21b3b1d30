"""Messages per user, REST and /ws together (CONTRACT 12): a refused send is 42900 with a
Retry-After and stores nothing. The bucket itself is tested in tests/test_rate_limits.py."""

import pytest

from chat.frames import send_from_frame
from chat.models import Message
from imserver.api.errors import AppError, ErrorCode
from tests.chat.conftest import ok

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(actor, befriend, settings):
    settings.IM_RATE_MESSAGES_PER_USER = "2/min"  # a burst of 2, then a token every 30 s
    a, b = actor("alice"), actor("bob")
    befriend(a, b)
    return a, b


def body_to(peer, **fields) -> dict:
    return {"to_user_id": peer.id, "chat_type": 0, "type": 0, "content": "hi", **fields}


def test_rest_send_over_the_limit_is_429_with_retry_after_and_stores_nothing(pair):
    a, b = pair
    ok(a.post("/chat/send", body_to(b)))
    ok(a.post("/chat/send", body_to(b)))
    refused = a.post("/chat/send", body_to(b, content="third", client_msg_id="c3"))
    assert (refused.status_code, refused.json()["code"]) == (429, 42900)
    assert refused["Retry-After"] == "30"
    assert Message.objects.filter(sender_id=a.id).count() == 2
    assert not Message.objects.filter(client_msg_id="c3").exists()
    # Another sender has their own budget.
    ok(b.post("/chat/send", body_to(a)))


def test_rest_and_ws_frames_share_one_budget(pair):
    a, b = pair
    ok(a.post("/chat/send", body_to(b)))
    send_from_frame(a.user, body_to(b))
    with pytest.raises(AppError) as refused:
        send_from_frame(a.user, body_to(b, client_msg_id="w3"))
    assert (refused.value.error_code, refused.value.wait) == (ErrorCode.RATE_LIMITED, 30)
    assert a.post("/chat/send", body_to(b)).json()["code"] == 42900
    assert Message.objects.filter(sender_id=a.id).count() == 2


def test_invalid_input_does_not_count_but_refused_sends_do(pair, actor):
    a, b = pair
    stranger = actor("stranger")
    for _ in range(3):  # 40000: not a message, not counted
        assert a.post("/chat/send", body_to(b, content="")).json()["code"] == 40000
    # Well-formed but refused by a permission rule (not friends): counted.
    assert a.post("/chat/send", body_to(stranger)).json()["code"] == 40003
    ok(a.post("/chat/send", body_to(b)))
    assert a.post("/chat/send", body_to(b)).json()["code"] == 42900


def test_im_throttle_0_turns_the_message_limit_off(pair, settings):
    settings.IM_THROTTLE = False
    a, b = pair
    for _ in range(5):
        ok(a.post("/chat/send", body_to(b)))
