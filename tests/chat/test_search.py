"""GET /chat/search (CONTRACT 11): substring terms, filters, paging, history's visibility."""

from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat.models import Message
from tests.chat.conftest import ok
from tests.files.conftest import make_png

pytestmark = pytest.mark.django_db

on_postgres = pytest.mark.requires_postgres


def search(actor, keyword: str, **params) -> dict:
    return ok(actor.get("/chat/search", {"keyword": keyword, **params}))


def contents(data: dict) -> list[str]:
    return [message["content"] for message in data["messages"]]


def refusal(actor, params: dict) -> dict:
    response = actor.get("/chat/search", params)
    assert response.status_code < 500
    return response.json()


@pytest.fixture
def pair(actor, befriend):
    a, b = actor("alice"), actor("bob")
    befriend(a, b)
    return a, b


@pytest.fixture(autouse=True)
def _local_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media"},
        },
    }


def upload(actor, name: str) -> str:
    part = SimpleUploadedFile(name, make_png(), content_type="image/png")
    return ok(actor.client.post("/file/upload", {"file": part}, format="multipart"))["file_id"]


# --- Terms ------------------------------------------------------------------------------------
def test_a_chinese_word_is_found_inside_a_sentence(pair):
    a, b = pair
    a.send_to_user(b, "大家你好呀")
    a.send_to_user(b, "大家好")
    assert contents(search(b, "你好")) == ["大家你好呀"]


def test_case_is_ignored_and_partial_words_match(pair):
    a, b = pair
    a.send_to_user(b, "HelloWorld")
    a.send_to_user(b, "goodbye")
    assert contents(search(b, "hello")) == ["HelloWorld"]
    assert contents(search(b, "OWOR")) == ["HelloWorld"]
    assert contents(search(b, "oodb")) == ["goodbye"]


@on_postgres
def test_non_ascii_case_is_folded_on_postgresql(pair):
    a, b = pair
    a.send_to_user(b, "großer ÄRGER heute")
    a.send_to_user(b, "Ölpreis")
    assert contents(search(b, "ärger")) == ["großer ÄRGER heute"]
    assert contents(search(b, "ÖLP")) == ["Ölpreis"]


def test_two_character_and_one_character_terms(pair):
    a, b = pair
    a.send_to_user(b, "明天见")
    a.send_to_user(b, "今天很好")
    a.send_to_user(b, "ok")
    assert contents(search(b, "天见")) == ["明天见"]
    assert contents(search(b, "天")) == ["今天很好", "明天见"]
    assert contents(search(b, "k")) == ["ok"]
    assert contents(search(b, "ok")) == ["ok"]


def test_every_term_must_match_in_any_order(pair):
    a, b = pair
    a.send_to_user(b, "project alpha 会议 tomorrow")
    a.send_to_user(b, "project beta")
    a.send_to_user(b, "alpha only")
    assert contents(search(b, "alpha project")) == ["project alpha 会议 tomorrow"]
    assert contents(search(b, "  会议\u3000PROJECT  ")) == ["project alpha 会议 tomorrow"]
    assert contents(search(b, "alpha gamma")) == []


def test_like_wildcards_and_fts_syntax_are_plain_characters(pair):
    a, b = pair
    a.send_to_user(b, "100% sure")
    a.send_to_user(b, "1000 sure")
    a.send_to_user(b, "snake_case")
    a.send_to_user(b, "snakeXcase")
    a.send_to_user(b, 'say "hi" OR bye')
    a.send_to_user(b, "back\\slash")
    assert contents(search(b, "0%")) == ["100% sure"]
    assert contents(search(b, "e_c")) == ["snake_case"]
    assert contents(search(b, '"hi"')) == ['say "hi" OR bye']
    assert contents(search(b, "k\\s")) == ["back\\slash"]
    assert contents(search(b, "%")) == ["100% sure"]
    assert contents(search(b, "*")) == []


def test_an_edited_message_matches_its_current_text_only(pair):
    a, b = pair
    message = a.send_to_user(b, "first draft")
    ok(a.post("/chat/message/edit", {"message_id": message["id"], "content": "final words"}))
    assert contents(search(b, "draft")) == []
    assert contents(search(b, "final")) == ["final words"]


def test_a_file_message_matches_its_file_name_not_its_file_id(pair):
    a, b = pair
    file_id = upload(a, "Quarterly-Report.png")
    sent = a.send_to_user(b, file_id, type=1)
    assert [m["id"] for m in search(b, "report QUARTERLY")["messages"]] == [sent["id"]]
    found = search(b, "quarterly")
    assert [m["id"] for m in found["messages"]] == [sent["id"]]
    assert found["messages"][0]["file"]["file_name"] == "Quarterly-Report.png"
    assert search(b, file_id[:8])["messages"] == []
    assert search(b, file_id)["messages"] == []


# --- Visibility -------------------------------------------------------------------------------
def test_private_messages_of_others_are_not_found(pair, actor, befriend):
    a, b = pair
    c = actor("carol")
    befriend(a, c)
    a.send_to_user(c, "secret plan")
    assert contents(search(b, "secret")) == []
    assert contents(search(a, "secret")) == ["secret plan"]
    assert contents(search(c, "secret")) == ["secret plan"]


def test_a_group_i_left_is_not_searched(actor, make_group):
    owner, member = actor("owner"), actor("member")
    group_id = make_group(owner, member)
    owner.send_to_group(group_id, "team lunch")
    assert contents(search(member, "lunch")) == ["team lunch"]
    ok(member.post("/group/leave", {"group_id": group_id}))
    assert contents(search(member, "lunch")) == []
    assert contents(search(owner, "lunch")) == ["team lunch"]


def test_a_dismissed_group_is_not_searched(actor, make_group):
    owner, member = actor("owner"), actor("member")
    group_id = make_group(owner, member)
    owner.send_to_group(group_id, "team lunch")
    ok(owner.post("/group/dismiss", {"group_id": group_id}))
    assert contents(search(member, "lunch")) == []
    assert contents(search(owner, "lunch")) == []


def test_group_messages_before_i_joined_are_not_found(actor, make_group):
    owner, early, late = actor("owner"), actor("early"), actor("late")
    group_id = make_group(owner, early)
    owner.send_to_group(group_id, "note before")
    ok(owner.post("/group/invite", {"group_id": group_id, "user_ids": [late.id]}))
    owner.send_to_group(group_id, "note after")
    assert contents(search(late, "note")) == ["note after"]
    assert contents(search(early, "note")) == ["note after", "note before"]


def test_messages_before_i_cleared_the_conversation_are_not_found(pair, actor, make_group):
    a, b = pair
    a.send_to_user(b, "old words")
    group_id = make_group(a, b)
    a.send_to_group(group_id, "old group words")
    ok(b.post("/chat/conversation/delete", {"target_id": a.id, "chat_type": 0}))
    ok(b.post("/chat/conversation/delete", {"target_id": group_id, "chat_type": 1}))
    a.send_to_user(b, "new words")
    a.send_to_group(group_id, "new group words")
    assert contents(search(b, "words")) == ["new group words", "new words"]
    assert len(search(a, "words")["messages"]) == 4


def test_messages_i_deleted_are_not_found_for_me_only(pair):
    a, b = pair
    message = a.send_to_user(b, "delete me")
    ok(b.post("/chat/message/delete", {"message_id": message["id"]}))
    assert contents(search(b, "delete")) == []
    assert contents(search(a, "delete")) == ["delete me"]


def test_recalled_messages_never_match(pair):
    a, b = pair
    message = a.send_to_user(b, "oops typo")
    ok(a.post("/chat/message/recall", {"message_id": message["id"]}))
    assert search(a, "oops")["messages"] == []
    assert search(b, "oops")["messages"] == []


# --- Filters ----------------------------------------------------------------------------------
@pytest.fixture
def world(pair, actor, befriend, make_group):
    a, b = pair
    c = actor("carol")
    befriend(a, c)
    group_id = make_group(a, b, c, name="crew")
    a.send_to_user(b, "apple from alice to bob")
    b.send_to_user(a, "apple from bob to alice")
    c.send_to_user(a, "apple from carol to alice")
    a.send_to_group(group_id, "apple from alice to crew")
    c.send_to_group(group_id, "apple from carol to crew")
    return a, b, c, group_id


def test_one_conversation_private_or_group(world):
    a, b, c, group_id = world
    assert contents(search(a, "apple", chat_type=0, target_id=b.id)) == [
        "apple from bob to alice",
        "apple from alice to bob",
    ]
    assert contents(search(a, "apple", chat_type=1, target_id=group_id)) == [
        "apple from carol to crew",
        "apple from alice to crew",
    ]
    assert contents(search(b, "apple", chat_type=0, target_id=c.id)) == []  # no conversation


def test_sender_and_type_filters(world):
    a, b, c, _group_id = world
    assert contents(search(a, "apple", sender_id=c.id)) == [
        "apple from carol to crew",
        "apple from carol to alice",
    ]
    file_id = upload(a, "apple.png")
    a.send_to_user(b, file_id, type=1)
    assert [m["type"] for m in search(a, "apple", type=1)["messages"]] == [1]
    assert len(search(a, "apple", type=0)["messages"]) == 5


def test_after_is_inclusive_and_before_exclusive(pair):
    a, b = pair
    ids = [a.send_to_user(b, f"tick {n}")["id"] for n in range(3)]
    for n, message_id in enumerate(ids):
        moment = datetime(2030, 1, 1, 0, 0, n * 10, tzinfo=UTC)
        Message.objects.filter(pk=message_id).update(created_at=moment)
    t0 = int(datetime(2030, 1, 1, tzinfo=UTC).timestamp())
    assert contents(search(b, "tick", after=t0 + 10)) == ["tick 2", "tick 1"]
    assert contents(search(b, "tick", before=t0 + 10)) == ["tick 0"]
    assert contents(search(b, "tick", after=t0 + 10, before=t0 + 20)) == ["tick 1"]
    assert contents(search(b, "tick", after=t0 + 11)) == ["tick 2"]


def test_paging_with_before_id_and_has_more(pair):
    a, b = pair
    ids = [a.send_to_user(b, f"page {n}")["id"] for n in range(5)]
    a.send_to_user(b, "other")
    first = search(b, "page", limit=2)
    assert ([m["id"] for m in first["messages"]], first["hasMore"]) == ([ids[4], ids[3]], True)
    second = search(b, "page", limit=2, before_id=ids[3])
    assert ([m["id"] for m in second["messages"]], second["hasMore"]) == ([ids[2], ids[1]], True)
    last = search(b, "page", limit=2, before_id=ids[1])
    assert ([m["id"] for m in last["messages"]], last["hasMore"]) == ([ids[0]], False)
    exact = search(b, "page", limit=5)
    assert (len(exact["messages"]), exact["hasMore"]) == (5, False)


def test_hidden_messages_never_shorten_a_page(actor, make_group, pair, settings):
    """Visibility is part of the query: 30 newer matches the reader may not see leave the
    page full."""
    settings.IM_RATE_MESSAGES_PER_USER = "1000/s"
    a, b = pair
    outsider = actor("outsider")
    group_id = make_group(a, outsider)
    a.send_to_user(b, "match visible 1")
    a.send_to_user(b, "match visible 2")
    for _ in range(30):
        a.send_to_group(group_id, "match hidden")
    page = search(b, "match", limit=2)
    assert (contents(page), page["hasMore"]) == (["match visible 2", "match visible 1"], False)


def test_limit_defaults_to_20_and_is_capped_at_100(pair, settings):
    settings.IM_RATE_MESSAGES_PER_USER = "1000/s"
    a, b = pair
    for _ in range(105):
        a.send_to_user(b, "many")
    assert len(search(b, "many")["messages"]) == 20
    page = search(b, "many", limit=1000)
    assert (len(page["messages"]), page["hasMore"]) == (100, True)


# --- The result objects -----------------------------------------------------------------------
def test_each_result_is_a_message_object_with_its_conversation(pair, actor, befriend, make_group):
    a, b = pair
    c = actor("carol", avatar="https://example.com/c.png")
    befriend(b, c)
    ok(b.client.put("/friend/remark", {"user_id": a.id, "remark": "Ali"}, format="json"))
    group_id = make_group(a, b, c, name="crew")
    quoted = a.send_to_user(b, "question")
    a.send_to_user(b, "meet answer", reply_to=quoted["id"])
    c.send_to_user(b, "meet carol")
    b.send_to_group(group_id, "meet crew")
    found = search(b, "meet")
    by_content = {m["content"]: m for m in found["messages"]}
    history = b.history(a.id, 0)["messages"][-1]
    reply = by_content["meet answer"]
    assert {k: v for k, v in reply.items() if k != "conversation"} == history
    assert reply["reply_to"]["message_id"] == quoted["id"]
    assert reply["conversation"] == {
        "chat_type": 0,
        "target_id": a.id,
        "target_name": "Ali",
        "target_avatar": "",
    }
    assert by_content["meet carol"]["conversation"] == {
        "chat_type": 0,
        "target_id": c.id,
        "target_name": "carol",
        "target_avatar": "https://example.com/c.png",
    }
    assert by_content["meet crew"]["conversation"] == {
        "chat_type": 1,
        "target_id": group_id,
        "target_name": "crew",
        "target_avatar": "",
    }
    assert search(a, "answer")["messages"][0]["conversation"]["target_name"] == "bob"


def test_queries_do_not_grow_with_the_page(pair, actor, befriend, make_group, settings):
    settings.IM_RATE_MESSAGES_PER_USER = "1000/s"
    a, b = pair
    file_id = upload(a, "needle.png")
    group_id = make_group(a, b)

    def count(limit: int) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert len(search(b, "needle", limit=limit)["messages"]) == limit
        return len(queries)

    first = a.send_to_user(b, "needle 0")
    a.send_to_user(b, file_id, type=1)
    for n in range(10):
        a.send_to_group(group_id, f"needle group {n}")
        a.send_to_user(b, f"needle private {n}", reply_to=first["id"])
    assert count(2) == count(20)


# --- Refusals ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "keyword"),
        ({"keyword": ""}, "keyword"),
        ({"keyword": "   "}, "keyword"),
        ({"keyword": "x" * 101}, "keyword"),
        ({"keyword": "x", "chat_type": 0}, "target_id"),
        ({"keyword": "x", "target_id": 5}, "chat_type"),
        ({"keyword": "x", "chat_type": 2, "target_id": 5}, "chat_type"),
        ({"keyword": "x", "limit": 0}, "limit"),
        ({"keyword": "x", "limit": -1}, "limit"),
        ({"keyword": "x", "limit": "many"}, "limit"),
        ({"keyword": "x", "before_id": 0}, "before_id"),
        ({"keyword": "x", "before_id": "1 OR 1=1"}, "before_id"),
        ({"keyword": "x", "sender_id": str(2**70)}, "sender_id"),
        ({"keyword": "x", "target_id": "abc", "chat_type": 0}, "target_id"),
        ({"keyword": "x", "type": 9}, "type"),
        ({"keyword": "x", "after": -1}, "after"),
        ({"keyword": "x", "before": 10**20}, "before"),
    ],
)
def test_bad_parameters_are_40000_naming_the_field(pair, params, field):
    a, _b = pair
    body = refusal(a, params)
    assert body["code"] == 40000, body
    assert field in body["message"]


def test_a_keyword_of_100_characters_after_trimming_is_accepted(pair):
    a, b = pair
    a.send_to_user(b, "y" * 100)
    assert len(search(a, "  " + "y" * 100 + "  ")["messages"]) == 1


def test_a_conversation_i_may_not_read_is_refused_as_history_refuses_it(actor, make_group, pair):
    a, _b = pair
    outsider = actor("outsider")
    group_id = make_group(a)
    params = {"keyword": "x", "chat_type": 1, "target_id": group_id}
    assert refusal(outsider, params)["code"] == 40003
    assert outsider.get("/chat/history", {"chat_type": 1, "target_id": group_id}).json()[
        "code"
    ] == (40003)
    assert refusal(a, {"keyword": "x", "chat_type": 1, "target_id": 10**9})["code"] == 40004
    assert refusal(a, {"keyword": "x", "chat_type": 0, "target_id": 10**9})["code"] == 40004
    ok(a.post("/group/dismiss", {"group_id": group_id}))
    assert refusal(a, params)["code"] == 40004


# --- The indexes ------------------------------------------------------------------------------
@on_postgres
def test_the_page_query_can_use_the_bigram_index(pair):
    a, b = pair
    a.send_to_user(b, "大家你好呀")
    with CaptureQueriesContext(connection) as queries:
        search(b, "你好")
    page_query = next(q["sql"] for q in queries.captured_queries if "im_bigrams" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + page_query)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "chat_message_search_bigrams" in plan, plan


def indexed(term: str) -> list[int]:
    """The ids the search index itself finds for ``term`` (3+ characters), asked directly:
    the FTS5 table on SQLite, the bigram expression on PostgreSQL."""
    if connection.vendor == "sqlite":
        sql = "SELECT rowid FROM chat_message_search WHERE chat_message_search MATCH %s"
        params = [f'"{term}"']
    else:
        sql = (
            "SELECT id FROM chat_message "
            "WHERE im_bigrams(lower(search_text)) @> im_bigrams(lower(%s))"
        )
        params = [term]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def test_the_index_follows_send_edit_and_recall(pair):
    a, b = pair
    message = a.send_to_user(b, "alphabet soup")
    assert indexed("phabet") == [message["id"]]
    ok(a.post("/chat/message/edit", {"message_id": message["id"], "content": "noodle soup"}))
    assert (indexed("phabet"), indexed("noodle")) == ([], [message["id"]])
    ok(a.post("/chat/message/recall", {"message_id": message["id"]}))
    assert (indexed("noodle"), indexed("soup")) == ([], [])
