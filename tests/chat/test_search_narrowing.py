"""GET /chat/search on PostgreSQL: both narrowings of ``_narrowed_by_index`` (the bigram
index's candidates, or my conversations) find exactly the same pages, with history's
visibility, the filters and paging."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat import selectors
from tests.chat.conftest import ok

pytestmark = [pytest.mark.django_db, pytest.mark.requires_postgres]

# A cap of 0 sends every keyword to "my conversations"; the default sends these small
# tables' keywords to the index's candidates.
NARROWINGS = {"conversations": 0, "index": selectors.SEARCH_INDEX_CANDIDATES_MAX}


@pytest.fixture(params=sorted(NARROWINGS))
def narrowing(request, monkeypatch) -> str:
    monkeypatch.setattr(selectors, "SEARCH_INDEX_CANDIDATES_MAX", NARROWINGS[request.param])
    return request.param


def search(actor, keyword: str, **params) -> dict:
    return ok(actor.get("/chat/search", {"keyword": keyword, **params}))


def contents(data: dict) -> list[str]:
    return [message["content"] for message in data["messages"]]


def page_statement(actor, keyword: str) -> str:
    with CaptureQueriesContext(connection) as queries:
        search(actor, keyword)
    return next(q["sql"] for q in queries.captured_queries if "ILIKE" in q["sql"])


def test_each_narrowing_keeps_history_visibility(actor, befriend, make_group, narrowing):
    a, b, c = actor("alice"), actor("bob"), actor("carol")
    befriend(a, b)
    befriend(a, c)
    a.send_to_user(b, "plan cleared")
    ok(b.post("/chat/conversation/delete", {"target_id": a.id, "chat_type": 0}))
    a.send_to_user(b, "plan kept")
    deleted = a.send_to_user(b, "plan deleted by me")
    ok(b.post("/chat/message/delete", {"message_id": deleted["id"]}))
    recalled = a.send_to_user(b, "plan recalled")
    ok(a.post("/chat/message/recall", {"message_id": recalled["id"]}))
    a.send_to_user(c, "plan of others")
    group_id = make_group(a, b)
    a.send_to_group(group_id, "plan in the group")
    left_id = make_group(a, b, name="left")
    a.send_to_group(left_id, "plan in a group I left")
    ok(b.post("/group/leave", {"group_id": left_id}))
    late_id = make_group(a, c, name="late")
    a.send_to_group(late_id, "plan before I joined")
    ok(a.post("/group/invite", {"group_id": late_id, "user_ids": [b.id]}))
    a.send_to_group(late_id, "plan after I joined")

    assert contents(search(b, "PLAN")) == ["plan after I joined", "plan in the group", "plan kept"]
    assert contents(search(b, "plan", chat_type=1, target_id=group_id)) == ["plan in the group"]
    assert contents(search(b, "group plan", sender_id=a.id)) == ["plan in the group"]
    assert contents(search(b, "plan", sender_id=b.id)) == []


def test_each_narrowing_pages_newest_first(pair_with_many, narrowing):
    _a, b, ids = pair_with_many
    first = search(b, "page", limit=3)
    assert ([m["id"] for m in first["messages"]], first["hasMore"]) == (ids[:-4:-1], True)
    rest = search(b, "page", limit=3, before_id=ids[-3])
    assert ([m["id"] for m in rest["messages"]], rest["hasMore"]) == (ids[-4::-1], False)
    assert contents(search(b, "p")) == ["page"] * len(ids)


@pytest.fixture
def pair_with_many(actor, befriend):
    a, b = actor("alice"), actor("bob")
    befriend(a, b)
    ids = [a.send_to_user(b, "page")["id"] for _ in range(5)]
    a.send_to_user(b, "other")
    return a, b, ids


def test_the_page_statement_holds_only_the_chosen_narrowing(actor, befriend, narrowing):
    a, b = actor("alice"), actor("bob")
    befriend(a, b)
    a.send_to_user(b, "needle")
    sql = page_statement(b, "needle")
    if narrowing == "index":
        assert "im_bigrams" in sql
        assert f"LIMIT {selectors.SEARCH_INDEX_CANDIDATES_MAX + 1}" in sql
    else:
        assert "im_bigrams" not in sql
        assert "chat_conversationmember" in sql


def test_one_character_keywords_read_my_conversations(actor, befriend):
    a, b = actor("alice"), actor("bob")
    befriend(a, b)
    a.send_to_user(b, "x")
    with CaptureQueriesContext(connection) as queries:
        assert contents(search(b, "x")) == ["x"]
    assert not any("im_bigrams" in q["sql"] for q in queries.captured_queries)
