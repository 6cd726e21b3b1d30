"""Editing a message (CONTRACT 10): the rules in their order, the stored edit, the `edit` push,
every place that shows the text, and the order of an edit's and a recall's pushes."""

import asyncio
import json
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import psycopg
import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers, get_channel_layer
from django.db import connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from accounts.models import User
from chat import services
from chat.models import ChatType, Message, MessageEdit
from imserver.overrides.lanes import run_sync
from imserver.publish import deferred_pushes, immediate_pushes, publish_on_commit, user_group_name
from tests.chat.conftest import ok
from tests.chat.test_file_messages import upload
from tests.e2e import ws_clients
from tests.support.databases import fresh_database_url
from tests.support.pushes import PushRecorder
from tests.support.server import ServerProcess
from tests.support.threads import start_thread, wait_for

pytestmark = pytest.mark.django_db

EDIT_PUSH_FIELDS = {
    "message_id",
    "seq",
    "chat_type",
    "sender_id",
    "receiver_id",
    "group_id",
    "content",
    "edited_at",
}


@pytest.fixture
def pair(actor, befriend):
    a, b = actor("alice"), actor("bob")
    befriend(a, b)
    return a, b


def edit(who, message_id, content="edited", **extra):
    return who.post("/chat/message/edit", {"message_id": message_id, "content": content, **extra})


def refused(response, code: int, field: str | None = None) -> dict:
    body = response.json()
    assert body["code"] == code, body
    if field is not None:
        assert field in body["message"], body
    return body


def age(message_id: int, seconds: int) -> None:
    """Make the message ``seconds`` old."""
    moment = timezone.now() - timedelta(seconds=seconds)
    Message.objects.filter(pk=message_id).update(created_at=moment)


# --- success ----------------------------------------------------------------------------------
def test_an_edit_changes_the_text_keeps_the_old_one_and_pushes_to_both(
    pair, push_recorder, django_capture_on_commit_callbacks
):
    a, b = pair
    sent = a.send_to_user(b, "helo")
    push_recorder.listen(a.id, b.id)
    with django_capture_on_commit_callbacks(execute=True):
        data = ok(edit(a, sent["id"], "  hello  "))
    assert data["id"] == sent["id"] and data["content"] == "hello"
    assert isinstance(data["edited_at"], int) and data["edited_at"] >= sent["create_at"]
    assert (data["seq"], data["status"], data["forwarded"]) == (sent["seq"], 1, False)
    [row] = MessageEdit.objects.all()
    assert (row.message_id, row.editor_id) == (sent["id"], a.id)
    assert (row.previous_content, row.content) == ("helo", "hello")
    assert int(row.edited_at.timestamp()) == data["edited_at"]
    for user_id in (a.id, b.id):
        [event] = push_recorder.events(user_id)
        assert event == {
            "type": "edit",
            "data": {
                "message_id": sent["id"],
                "seq": sent["seq"],
                "chat_type": 0,
                "sender_id": a.id,
                "receiver_id": b.id,
                "group_id": None,
                "content": "hello",
                "edited_at": data["edited_at"],
            },
        }


def test_every_edit_is_kept_in_order(pair):
    a, b = pair
    sent = a.send_to_user(b, "one")
    ok(edit(a, sent["id"], "two"))
    ok(edit(a, sent["id"], "three"))
    rows = list(MessageEdit.objects.values_list("previous_content", "content"))
    assert rows == [("one", "two"), ("two", "three")]


def test_the_same_text_again_changes_nothing_and_pushes_nothing(
    pair, push_recorder, django_capture_on_commit_callbacks
):
    a, b = pair
    sent = a.send_to_user(b, "same")
    push_recorder.listen(a.id, b.id)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        data = ok(edit(a, sent["id"], " same "))
    assert data == sent
    assert callbacks == [] and push_recorder.events(b.id, timeout=0.05) == []
    assert not MessageEdit.objects.exists()
    assert Message.objects.get(pk=sent["id"]).edited_at is None


def test_history_quotes_and_the_conversation_list_show_the_new_text(pair):
    a, b = pair
    sent = a.send_to_user(b, "first")
    reply = b.send_to_user(a, "answer", reply_to=sent["id"])
    ok(edit(a, sent["id"], "first, edited"))
    for who, peer in ((a, b), (b, a)):
        messages = {m["id"]: m for m in who.history(peer.id, 0)["messages"]}
        assert messages[sent["id"]]["content"] == "first, edited"
        assert messages[sent["id"]]["edited_at"] is not None
        assert messages[reply["id"]]["reply_to"]["content"] == "first, edited"
        assert messages[reply["id"]]["edited_at"] is None
    # the edited message is the last one: the list previews its new text
    last = a.send_to_user(b, "latest")
    ok(edit(a, last["id"], "latest, edited"))
    for who in (a, b):
        [entry] = who.conversations()
        assert (entry["last_message_id"], entry["last_message"]) == (last["id"], "latest, edited")


def test_an_edited_then_recalled_message_shows_nothing(pair):
    a, b = pair
    sent = a.send_to_user(b, "first")
    reply = b.send_to_user(a, "answer", reply_to=sent["id"])
    ok(edit(a, sent["id"], "secret"))
    ok(a.post("/chat/message/recall", {"message_id": sent["id"]}))
    messages = {m["id"]: m for m in b.history(a.id, 0)["messages"]}
    assert (messages[sent["id"]]["content"], messages[sent["id"]]["status"]) == ("", 2)
    assert messages[reply["id"]]["reply_to"]["content"] == ""


def test_group_edit_pushes_to_the_members_who_see_the_message(
    actor, make_group, push_recorder, django_capture_on_commit_callbacks
):
    owner, member, deleter, clearer = (actor(name) for name in ("own", "mem", "del", "clr"))
    group_id = make_group(owner, member, deleter, clearer)
    sent = member.send_to_group(group_id, "to all")
    ok(deleter.post("/chat/message/delete", {"message_id": sent["id"]}))
    ok(clearer.post("/chat/conversation/delete", {"target_id": group_id, "chat_type": 1}))
    late = actor("late")
    ok(owner.post("/group/invite", {"group_id": group_id, "user_ids": [late.id]}))
    everyone = (owner, member, deleter, clearer, late)
    push_recorder.listen(*(who.id for who in everyone))
    with django_capture_on_commit_callbacks(execute=True):
        data = ok(edit(member, sent["id"], "to all, edited"))
    expected = {
        "message_id": sent["id"],
        "seq": sent["seq"],
        "chat_type": 1,
        "sender_id": member.id,
        "receiver_id": group_id,
        "group_id": group_id,
        "content": "to all, edited",
        "edited_at": data["edited_at"],
    }
    for who in (owner, member):
        assert push_recorder.events(who.id) == [{"type": "edit", "data": expected}]
    for who in (deleter, clearer, late):
        assert push_recorder.events(who.id, timeout=0.05) == []
    assert set(expected) == EDIT_PUSH_FIELDS


def test_a_private_peer_who_cleared_the_conversation_gets_no_push(
    pair, push_recorder, django_capture_on_commit_callbacks
):
    a, b = pair
    sent = a.send_to_user(b, "hi")
    ok(b.post("/chat/conversation/delete", {"target_id": a.id, "chat_type": 0}))
    push_recorder.listen(a.id, b.id)
    with django_capture_on_commit_callbacks(execute=True):
        ok(edit(a, sent["id"], "hi!"))
    assert [event["type"] for event in push_recorder.events(a.id)] == ["edit"]
    assert push_recorder.events(b.id, timeout=0.05) == []


# --- the rules, in their order -------------------------------------------------------------------
def test_a_message_i_cannot_see_is_40004_before_anything_else(pair, actor, make_group):
    a, b = pair
    stranger = actor("stranger")
    sent = a.send_to_user(b, "hi")
    assert stranger.post("/chat/message/edit", {"message_id": sent["id"]}).json()["code"] == 40004
    refused(edit(stranger, sent["id"], ""), 40004)
    refused(edit(a, 99999999, "x"), 40004)
    # deleted for me: no longer in my history, even as its sender
    ok(a.post("/chat/message/delete", {"message_id": sent["id"]}))
    refused(edit(a, sent["id"], ""), 40004)
    # a group message from before I joined
    group_id = make_group(a)
    old = a.send_to_group(group_id, "old")
    ok(a.post("/group/invite", {"group_id": group_id, "user_ids": [b.id]}))
    refused(edit(b, old["id"], ""), 40004)
    assert not MessageEdit.objects.exists()


def test_only_the_sender_may_edit(pair, actor, make_group):
    a, b = pair
    sent = a.send_to_user(b, "hi")
    body = refused(edit(b, sent["id"], ""), 40003)  # before the content is looked at
    assert edit(b, sent["id"], "x").status_code == 403
    # a group owner may recall anyone's message, not edit it
    member = actor("member")
    group_id = make_group(a, member)
    theirs = member.send_to_group(group_id, "mine")
    refused(edit(a, theirs["id"], "owner's words"), 40003)
    assert body["message"]
    assert Message.objects.get(pk=theirs["id"]).content == "mine"


def test_a_recalled_message_cannot_be_edited(pair, settings):
    a, b = pair
    sent = a.send_to_user(b, "hi")
    ok(a.post("/chat/message/recall", {"message_id": sent["id"]}))
    refused(edit(a, sent["id"], ""), 40003)
    settings.IM_EDIT_WINDOW_S = 0  # recalled comes before the window
    refused(edit(a, sent["id"], "x"), 40003)
    assert not MessageEdit.objects.exists()


def test_only_text_messages_can_be_edited(pair, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media"},
        },
    }
    a, b = pair
    sent = a.send_to_user(b, upload(a), type=1)
    recalled = a.send_to_user(b, upload(a), type=2)
    refused(edit(a, sent["id"], "x"), 40000, "message_id")
    age(sent["id"], 10_000)  # the type comes before the window
    refused(edit(a, sent["id"], ""), 40000, "message_id")
    # a recalled file message: recalled comes before the type
    ok(a.post("/chat/message/recall", {"message_id": recalled["id"]}))
    refused(edit(a, recalled["id"], "x"), 40003)


def test_the_edit_window(pair, settings):
    a, b = pair
    settings.IM_EDIT_WINDOW_S = 900
    sent = a.send_to_user(b, "hi")
    age(sent["id"], 890)
    ok(edit(a, sent["id"], "still in time"))
    age(sent["id"], 910)
    refused(edit(a, sent["id"], "too late"), 40003)
    refused(edit(a, sent["id"], ""), 40003)  # the window comes before the content
    assert edit(a, sent["id"], "too late").status_code == 403
    settings.IM_EDIT_WINDOW_S = 3600
    ok(edit(a, sent["id"], "a longer window"))
    assert Message.objects.get(pk=sent["id"]).content == "a longer window"


def test_a_window_of_0_turns_editing_off(pair, settings):
    a, b = pair
    sent = a.send_to_user(b, "hi")
    settings.IM_EDIT_WINDOW_S = 0
    refused(edit(a, sent["id"], "x"), 40003)
    assert Message.objects.get(pk=sent["id"]).content == "hi"


def test_the_content_is_checked_as_a_send_checks_it(pair):
    a, b = pair
    sent = a.send_to_user(b, "hi")
    for content in ("", "   ", "x" * 5001):
        refused(edit(a, sent["id"], content), 40000, "content")
    refused(a.post("/chat/message/edit", {"message_id": sent["id"]}), 40000, "content")
    refused(edit(a, sent["id"], {"a": 1}), 40000, "content")
    refused(edit(a, sent["id"], "nul\x00"), 40000, "content")
    assert not MessageEdit.objects.exists()
    assert ok(edit(a, sent["id"], "y" * 5000))["content"] == "y" * 5000
    assert ok(edit(a, sent["id"], " 你好 "))["content"] == "你好"


def test_malformed_ids_are_40000(pair):
    a, _b = pair
    for message_id in (None, 0, -1, "abc", 2**64, [1]):
        refused(a.post("/chat/message/edit", {"message_id": message_id, "content": "x"}), 40000)
    refused(a.post("/chat/message/edit", {"content": "x"}), 40000, "message_id")
    assert a.get("/chat/message/edit").status_code == 405


def test_refusals_speak_english_on_request(pair):
    a, b = pair
    sent = a.send_to_user(b, "hi")
    response = b.post(
        "/chat/message/edit",
        {"message_id": sent["id"], "content": "x"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.json()["message"] == "Only the sender may edit a message"
    assert "编辑" in edit(b, sent["id"]).json()["message"]


# --- immediate pushes ---------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_immediate_pushes_go_out_before_their_block_ends_inside_deferred_pushes():
    """What the ordering lock relies on (chat/ordering.py): inside a request's deferred block,
    the pushes committed in ``immediate_pushes`` reach the channel layer at commit; the
    request's other pushes still wait for the deferred block."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(user_group_name(7), channel)

    def commit_both() -> None:
        with transaction.atomic():
            publish_on_commit([7], "deferred", {"n": 1})
        with immediate_pushes(), transaction.atomic():
            publish_on_commit([7], "immediate", {"n": 2})

    async with deferred_pushes():
        await database_sync_to_async(commit_both)()
        first = await asyncio.wait_for(layer.receive(channel), 2)
    second = await asyncio.wait_for(layer.receive(channel), 2)
    assert json.loads(first["text"])["type"] == "immediate"
    assert json.loads(second["text"])["type"] == "deferred"


# --- an edit racing a recall (PostgreSQL, real threads and processes) -----------------------------
class GatedLayer:
    """The configured channel layer, except that pushes of one kind wait for a gate to open
    before they reach it: a push handed over slowly, as a busy event loop or a slow Redis hands
    it over. Configured as ``{"BACKEND": __name__ + ".GatedLayer", "CONFIG": {"inner": ...}}``."""

    kind: str | None = None  # the frame type held back
    gate = threading.Event()

    def __init__(self, *, inner: str, **config: object) -> None:
        self.inner = import_string(inner)(**config)

    async def group_send(self, group: str, message: dict) -> None:
        held = message.get("text") and json.loads(message["text"])["type"] == GatedLayer.kind
        if held:
            await asyncio.to_thread(GatedLayer.gate.wait, 15)
        await self.inner.group_send(group, message)

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def _advisory_lock_waiters() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        return cursor.fetchone()[0]


@pytest.fixture
def gated_pushes(settings) -> Iterator[PushRecorder]:
    """A push recorder on the configured layer behind ``GatedLayer``."""
    configured = settings.CHANNEL_LAYERS["default"]
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": f"{__name__}.GatedLayer",
            "CONFIG": {"inner": configured["BACKEND"], **configured.get("CONFIG", {})},
        }
    }
    channel_layers.backends.clear()
    GatedLayer.gate.clear()
    recorder = PushRecorder()
    yield recorder
    GatedLayer.kind = None
    GatedLayer.gate.set()
    recorder.close()


def _as_a_request(work: Callable[[], object]) -> object:
    """``work`` as a request or socket frame runs it: on a thread of its own, from an event
    loop, inside ``deferred_pushes`` (imserver/overrides/lanes.py ``run_sync``)."""
    return asyncio.run(run_sync(work))


def _recall_as(how: str, user_id: int, message_id: int) -> Message:
    if how == "staff":
        staff = User.objects.get(pk=user_id)
        return services.message_recall_by_staff(message_id=message_id, operator=staff)
    return services.message_recall(user=User.objects.get(pk=user_id), message_id=message_id)


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("recall", ["sender", "staff"])
def test_a_recall_waits_until_the_edit_before_it_has_pushed(pair, gated_pushes, make_user, recall):
    """The edit, run as a request runs it (its pushes deferred until it returns), has committed
    and its push is on its way (held back): a recall of the same message, by the sender or by
    staff, waits for that push, so the recall is pushed after the edit on every socket. Without
    the ordering lock, or with the edit's push left in the request's deferred block, the recall
    would commit and push at once."""
    a, b = pair
    staff = make_user("staff", is_staff=True)
    sent = a.send_to_user(b, "v0")
    gated_pushes.listen(a.id, b.id)
    GatedLayer.kind = "edit"
    editor, edited = start_thread(
        lambda: _as_a_request(
            lambda: services.message_edit(
                user=User.objects.get(pk=a.id), message_id=sent["id"], content="v1"
            )
        )
    )
    wait_for(lambda: MessageEdit.objects.filter(message_id=sent["id"]).exists())  # committed
    recaller, recalled = start_thread(
        lambda: _recall_as(recall, staff.pk if recall == "staff" else a.id, sent["id"])
    )
    wait_for(lambda: _advisory_lock_waiters() >= 1)
    assert not Message.objects.get(pk=sent["id"]).is_recalled
    GatedLayer.gate.set()
    editor.join(30)
    recaller.join(30)
    assert edited.keys() == {"result"} and recalled.keys() == {"result"}, (edited, recalled)
    assert Message.objects.get(pk=sent["id"]).is_recalled
    for user_id in (a.id, b.id):
        assert [event["type"] for event in gated_pushes.events(user_id)] == ["edit", "recall"]


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
def test_an_edit_after_a_recall_waits_for_its_push_then_is_refused(pair, gated_pushes):
    a, b = pair
    sent = a.send_to_user(b, "v0")
    gated_pushes.listen(a.id, b.id)
    GatedLayer.kind = "recall"
    recaller, recalled = start_thread(
        lambda: _as_a_request(lambda: _recall_as("sender", a.id, sent["id"]))
    )
    wait_for(lambda: Message.objects.get(pk=sent["id"]).is_recalled)  # committed
    editor, edited = start_thread(
        lambda: services.message_edit(
            user=User.objects.get(pk=a.id), message_id=sent["id"], content="v1"
        )
    )
    wait_for(lambda: _advisory_lock_waiters() >= 1)
    GatedLayer.gate.set()
    recaller.join(30)
    editor.join(30)
    assert recalled.keys() == {"result"}, recalled
    assert edited["error"].error_code == 40003, edited
    assert not MessageEdit.objects.exists()
    for user_id in (a.id, b.id):
        assert [event["type"] for event in gated_pushes.events(user_id)] == ["recall"]


ROUNDS = 8
SERVER_ROUNDS = 10


def _race_round(alice_id: int, bob_id: int) -> tuple[int, list[object]]:
    """alice sends; three edits of hers and her recall start at once, each on its own thread
    and connection. Returns the message id and each thread's outcome."""
    alice = User.objects.get(pk=alice_id)
    message = services.message_send(
        sender=alice, chat_type=ChatType.PRIVATE, target_id=bob_id, type=0, content="v0"
    )
    barrier = threading.Barrier(4)

    def editing(text: str):
        def work() -> object:
            barrier.wait(10)
            return services.message_edit(
                user=User.objects.get(pk=alice_id), message_id=message.pk, content=text
            )

        return work

    def recalling() -> object:
        barrier.wait(10)
        return services.message_recall(user=User.objects.get(pk=alice_id), message_id=message.pk)

    started = [start_thread(editing(f"v{n}")) for n in (1, 2, 3)] + [start_thread(recalling)]
    for thread, _outcome in started:
        thread.join(30)
    return message.pk, [outcome for _thread, outcome in started]


def _assert_no_edit_after_recall(events: list[dict], message_id: int) -> None:
    kinds = [
        event["type"]
        for event in events
        if event["type"] in ("edit", "recall") and event["data"]["message_id"] == message_id
    ]
    assert kinds.count("recall") == 1, kinds
    assert kinds[-1] == "recall", kinds


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
def test_an_edit_racing_a_recall_ends_recalled_and_pushes_no_edit_after_the_recall(
    pair, push_recorder
):
    """In process, on real threads: whichever commits first, the message ends recalled, and
    each recipient's pushes of the message end with the recall."""
    a, b = pair
    push_recorder.listen(a.id, b.id)
    for _round in range(ROUNDS):
        message_id, outcomes = _race_round(a.id, b.id)
        assert outcomes[-1].keys() == {"result"}, outcomes  # the recall always succeeds
        for outcome in outcomes[:-1]:  # an edit either went first or met the recalled message
            assert "result" in outcome or outcome["error"].error_code == 40003, outcome
        message = Message.objects.get(pk=message_id)
        assert message.is_recalled
        assert MessageEdit.objects.filter(message_id=message_id).count() == sum(
            "result" in outcome for outcome in outcomes[:-1]
        )
        for user_id in (a.id, b.id):
            _assert_no_edit_after_recall(push_recorder.events(user_id), message_id)


@pytest.mark.requires_postgres
@pytest.mark.requires_redis
def test_through_two_server_processes_no_socket_gets_an_edit_after_the_recall(tmp_path):
    """The real thing: two server processes on one database and one Redis, requests whose
    pushes the server defers until the view returns (imserver/publish.py), edits sent to one
    process while the owner recalls through the other, and a socket of each member on each
    process. Every round ends recalled, and on no socket does an `edit` follow the `recall`."""
    with fresh_database_url(tmp_path, "edit_race") as database_url:
        _start_user_ids_apart(database_url)
        env = {
            "DATABASE_URL": database_url,
            "REDIS_URL": os.environ["REDIS_URL"],
            "IM_THROTTLE": "0",
            "IM_CACHE_PREFIX": "im-edit-race",
        }
        first, second = ServerProcess(env), ServerProcess(env)
        first.start()
        second.start()
        try:
            owner, member, watcher = (
                ws_clients.User(server, name)
                for server, name in ((first, "owner"), (second, "member"), (first, "watcher"))
            )
            group_id = owner.call("POST", "/group/create", {"group_name": "race"})["group_id"]
            owner.call(
                "POST", "/group/invite", {"group_id": group_id, "user_ids": [member.id, watcher.id]}
            )
            with ThreadPoolExecutor(max_workers=8) as pool:
                asyncio.run(_server_rounds(first, second, owner, member, watcher, group_id, pool))
        finally:
            first.stop()
            second.stop()


def _start_user_ids_apart(database_url: str) -> None:
    """Redis pub/sub ignores database numbers: pushes of other test runs on the same Redis
    reach every subscriber of ``user.<id>``. Ids far from theirs keep this test's sockets to
    its own pushes."""
    with psycopg.connect(database_url) as connection:
        connection.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)",
            [User._meta.db_table, random.randrange(10**9, 2 * 10**9)],
        )


async def _server_rounds(first, second, owner, member, watcher, group_id, pool) -> None:
    users = (owner, member, watcher)
    sockets = [
        await ws_clients.Socket.open(server, user.token)
        for user in users
        for server in (first, second)
    ]
    loop = asyncio.get_running_loop()
    try:
        for round_number in range(SERVER_ROUNDS):
            sent = member.call(
                "POST", "/chat/send", {"group_id": group_id, "chat_type": 1, "content": "v0"}
            )
            message_id = sent["id"]
            requests = [
                (
                    member,
                    first,
                    "/chat/message/edit",
                    {"message_id": message_id, "content": f"v{n}"},
                )
                for n in (1, 2, 3)
            ] + [(owner, second, "/chat/message/recall", {"message_id": message_id})]
            # The recall starts 0-9 ms after the edits: early, it finds the message unedited;
            # later, right after an edit's commit, while that edit's push is on its way.
            delays = [0, 0, 0, (round_number % 4) * 0.003]
            answers = await asyncio.gather(
                *(
                    loop.run_in_executor(pool, _request_after, delay, server, path, body, user)
                    for delay, (user, server, path, body) in zip(delays, requests, strict=True)
                )
            )
            codes = [answer["code"] for _status, answer in answers]
            assert codes[-1] == 20000 and set(codes[:-1]) <= {20000, 40003}, codes
            history = owner.call("GET", f"/chat/history?target_id={group_id}&chat_type=1")
            [stored] = [m for m in history["messages"] if m["id"] == message_id]
            assert (stored["status"], stored["content"]) == (2, ""), (round_number, stored)
            for socket in sockets:
                frames = await _frames_until_recall(socket, message_id)
                _assert_no_edit_after_recall(frames, message_id)
    finally:
        for socket in sockets:
            await socket.close()


def _request_after(
    delay: float, server: ServerProcess, path: str, body: dict, user: ws_clients.User
) -> tuple[int, dict]:
    time.sleep(delay)
    return server.request("POST", path, body, user.token)


async def _frames_until_recall(socket, message_id: int) -> list[dict]:
    """The frames up to the message's `recall`, and whatever arrives in the half second after
    it (an `edit` pushed late would be among them)."""
    frames: list[dict] = []
    async with asyncio.timeout(10):
        while not any(
            frame["type"] == "recall" and frame["data"]["message_id"] == message_id
            for frame in frames
        ):
            frames.append(json.loads(await socket.connection.recv()))
    return frames + await socket.frames(within=0.5)
