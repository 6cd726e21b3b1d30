"""The hand-written fast path of send validation agrees with SendMessageInputSerializer.

``send_input_fast`` may decline anything (the serializer then decides), but whatever it accepts
the serializer must accept with the same result.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ValidationError

from chat.serializers import SendMessageInputSerializer, send_input, send_input_fast
from imserver.api.validation import validated

KEYS = [
    "chat_type",
    "to_user_id",
    "group_id",
    "type",
    "content",
    "client_msg_id",
    "receiver_id",
    "receiver_type",
    "message_type",
    "unrelated",
]
TEXT = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["hi", " hi ", "", "   ", "\x00", "a\x00b", "\ud800", "\uff15", "text"]),
    st.text(min_size=60, max_size=70),
    st.just("x" * 5001),
)
VALUES = st.one_of(
    st.integers(min_value=-2, max_value=6),
    st.sampled_from([2**63 - 1, 2**63, True, False, None, 1.0, 2.5, [], {}, "1", "0", " 3 "]),
    TEXT,
)


@st.composite
def send_bodies(draw) -> dict:
    """Mostly well-formed bodies, then a few keys overwritten with anything or left out."""
    body = {}
    if draw(st.booleans()):
        body["to_user_id"] = draw(st.integers(min_value=1, max_value=2**63 - 1))
    else:
        body["group_id"] = draw(st.integers(min_value=1, max_value=2**63 - 1))
    if draw(st.booleans()):
        body["chat_type"] = draw(st.sampled_from([0, 1]))
    if draw(st.booleans()):
        body["type"] = draw(st.integers(min_value=0, max_value=4))
    body["content"] = draw(st.one_of(st.text(min_size=1, max_size=40), TEXT))
    if draw(st.booleans()):
        body["client_msg_id"] = draw(st.one_of(st.none(), TEXT))
    for key in draw(st.lists(st.sampled_from(KEYS), max_size=2)):
        body[key] = draw(VALUES)
    for key in draw(st.lists(st.sampled_from(KEYS), max_size=1)):
        body.pop(key, None)
    return body


def serializer_result(data):
    try:
        return validated(SendMessageInputSerializer, data)
    except ValidationError:
        return "refused"


@settings(max_examples=3000, deadline=None, derandomize=True)
@given(st.one_of(send_bodies(), st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=6)))
def test_whatever_the_fast_path_accepts_the_serializer_accepts_identically(data):
    fast = send_input_fast(data)
    if fast is not None:
        assert serializer_result(data) == fast


@pytest.mark.parametrize(
    "data",
    [
        {"to_user_id": 5, "content": "hello"},
        {"to_user_id": 5, "chat_type": 0, "type": 0, "content": " hi ", "client_msg_id": "c-1"},
        {"group_id": 9, "chat_type": 1, "content": "all", "client_msg_id": None},
        {"group_id": 9, "content": "你好", "type": 0},
        {"to_user_id": 5, "type": 1, "content": "3f2b6a0c-6d2a-4c1e-9d0a-0b7c2f1e4a55"},
    ],
)
def test_the_documented_form_takes_the_fast_path(data):
    fast = send_input_fast(data)
    assert fast is not None
    assert fast == serializer_result(data) == send_input(data)


@pytest.mark.parametrize(
    "data",
    [
        {"receiver_id": 5, "receiver_type": "user", "content": "alternate form"},
        {"to_user_id": "5", "content": "numeric string"},
        {"to_user_id": 5, "content": 7},
        {"to_user_id": 5, "content": "   "},
        {"to_user_id": 5, "group_id": 6, "content": "which one?"},
    ],
)
def test_everything_else_goes_through_the_serializer(data):
    assert send_input_fast(data) is None
    result = serializer_result(data)
    if result == "refused":
        with pytest.raises(ValidationError):
            send_input(data)
    else:
        assert send_input(data) == result
