import pytest

from tests.chat.conftest import ok

pytestmark = pytest.mark.django_db


@pytest.fixture
def chatted(actor, befriend):
    a, b = actor("alice"), actor("bob")
    befriend(a, b)
    for n in range(1, 31):
        (a if n % 2 else b).send_to_user(b if n % 2 else a, f"m{n}")
    return a, b


def seqs(page: dict) -> list[int]:
    return [m["seq"] for m in page["messages"]]


def test_without_cursor_the_newest_page_in_ascending_order(chatted):
    a, b = chatted
    page = a.history(b.id, 0)
    assert seqs(page) == list(range(11, 31))
    assert page["hasMore"] is True
    assert page["messages"][0]["content"] == "m11"


def test_before_seq_pages_back_to_the_start(chatted):
    a, b = chatted
    page = a.history(b.id, 0, before_seq=11, limit=7)
    assert (seqs(page), page["hasMore"]) == (list(range(4, 11)), True)
    last = a.history(b.id, 0, before_seq=4, limit=7)
    assert (seqs(last), last["hasMore"]) == ([1, 2, 3], False)


def test_after_seq_catches_up_forward(chatted):
    a, b = chatted
    page = a.history(b.id, 0, after_seq=0, limit=25)
    assert (seqs(page), page["hasMore"]) == (list(range(1, 26)), True)
    rest = a.history(b.id, 0, after_seq=25, limit=25)
    assert (seqs(rest), rest["hasMore"]) == ([26, 27, 28, 29, 30], False)


def test_limit_is_capped_at_100(actor, befriend, settings):
    settings.IM_RATE_MESSAGES_PER_USER = "1000/s"  # 105 sends at once, above the default burst
    a, b = actor("alice"), actor("bob")
    befriend(a, b)
    for _ in range(105):
        a.send_to_user(b)
    assert len(a.history(b.id, 0, limit=1000)["messages"]) == 100


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": -5}, "limit"),
        ({"before_seq": -1}, "before_seq"),
        ({"after_seq": -1}, "after_seq"),
        ({"after_seq": "x"}, "after_seq"),
        ({"chat_type": 3}, "chat_type"),
        ({"target_id": None}, "target_id"),
        ({"before_seq": 5, "after_seq": 1}, "after_seq"),
    ],
)
def test_history_parameter_refusals(chatted, params, field):
    a, b = chatted
    query = {"target_id": b.id, "chat_type": 0, **params}
    query = {k: v for k, v in query.items() if v is not None}
    response = a.get("/chat/history", query)
    assert response.json()["code"] == 40000
    assert field in response.json()["message"]


def test_deleted_messages_are_hidden_for_me_only(chatted):
    a, b = chatted
    target = a.history(b.id, 0, after_seq=0, limit=3)["messages"][1]
    ok(a.post("/chat/message/delete", {"message_id": target["id"]}))
    assert 2 not in seqs(a.history(b.id, 0, after_seq=0, limit=3))
    assert 2 in seqs(b.history(a.id, 0, after_seq=0, limit=3))


def test_a_stranger_cannot_touch_a_message(chatted, actor):
    a, b = chatted
    stranger = actor("eve")
    message_id = a.history(b.id, 0)["messages"][0]["id"]
    for path in ("/chat/message/delete", "/chat/message/recall"):
        response = stranger.post(path, {"message_id": message_id})
        assert (response.status_code, response.json()["code"]) == (404, 40004)
    # Asking for someone else's pair only ever shows the caller's own conversation.
    assert stranger.history(b.id, 0)["messages"] == []


def test_recalled_messages_have_status_2_and_no_content(chatted):
    a, b = chatted
    newest = a.history(b.id, 0, limit=1)["messages"][0]
    sender = a if newest["from_user_id"] == a.id else b
    recalled = ok(sender.post("/chat/message/recall", {"message_id": newest["id"]}))
    assert (recalled["status"], recalled["content"]) == (2, "")
    seen = b.history(a.id, 0, limit=1)["messages"][0]
    assert (seen["status"], seen["content"]) == (2, "")


def test_group_history_starts_when_i_joined(actor, make_group):
    owner, early, late = actor("owner"), actor("early"), actor("late")
    group_id = make_group(owner, early)
    owner.send_to_group(group_id, "before")
    ok(owner.post("/group/invite", {"group_id": group_id, "user_ids": [late.id]}))
    owner.send_to_group(group_id, "after")
    assert [m["content"] for m in early.history(group_id, 1)["messages"]] == ["before", "after"]
    assert [m["content"] for m in late.history(group_id, 1)["messages"]] == ["after"]
    assert late.conversations()[0]["unread_count"] == 1


def test_group_history_needs_membership(actor, make_group):
    owner, outsider = actor("owner"), actor("outsider")
    group_id = make_group(owner)
    owner.send_to_group(group_id, "secret")
    response = outsider.get("/chat/history", {"target_id": group_id, "chat_type": 1})
    assert (response.status_code, response.json()["code"]) == (403, 40003)
    unknown = outsider.get("/chat/history", {"target_id": 999999, "chat_type": 1})
    assert unknown.json()["code"] == 40004


def test_a_member_who_left_loses_access(actor, make_group):
    owner, member = actor("owner"), actor("member")
    group_id = make_group(owner, member)
    ok(member.post("/group/leave", {"group_id": group_id}))
    assert (
        member.get("/chat/history", {"target_id": group_id, "chat_type": 1}).json()["code"] == 40003
    )


def test_history_does_a_constant_number_of_queries(
    actor, befriend, django_assert_max_num_queries, settings
):
    settings.IM_RATE_MESSAGES_PER_USER = "1000/s"  # 43 sends at once, above the default burst
    a, b = actor("alice"), actor("bob")
    befriend(a, b)
    for _ in range(3):
        a.send_to_user(b)
    with django_assert_max_num_queries(6):
        assert len(a.history(b.id, 0)["messages"]) == 3
    for _ in range(40):
        a.send_to_user(b)
    with django_assert_max_num_queries(6):
        assert len(a.history(b.id, 0, limit=40)["messages"]) == 40
