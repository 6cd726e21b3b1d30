"""Who may read a file someone else uploaded (CONTRACT 8 and 12): only through a message they
see in their history. Recalled, deleted-for-me, cleared and before-I-joined messages share
nothing; the uploader keeps their file whatever happens to the messages."""

from collections.abc import Callable
from itertools import product

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import User
from chat import selectors as chat_selectors
from chat.file_access import file_get_readable, file_is_shared_with, messages_visible_in_history
from chat.models import ChatType
from files.models import File
from groups.models import Group
from imserver.api.errors import AppError
from tests.chat.conftest import Actor as ChatActor
from tests.chat.conftest import ok

pytestmark = pytest.mark.django_db


class Actor(ChatActor):
    """A chat actor that also uploads, sends files and reads them."""

    def upload(self, content: bytes = b"%PDF-1.4 shared", name: str = "doc.pdf") -> str:
        part = SimpleUploadedFile(name, content, content_type="application/pdf")
        return ok(self.client.post("/file/upload", {"file": part}, format="multipart"))["file_id"]

    def send(self, file_id: str, *, to: "Actor | None" = None, group_id: int | None = None) -> int:
        if to is not None:
            body = {"to_user_id": to.id, "chat_type": 0, "type": 2, "content": file_id}
        else:
            body = {"group_id": group_id, "chat_type": 1, "type": 2, "content": file_id}
        return ok(self.post("/chat/send", body))["id"]

    def reads(self, file_id: str) -> bool:
        """Info and download agree: both 20000/200, or both 40004/404."""
        info = self.client.get("/file/info", {"file_id": file_id})
        download = self.client.get("/file/download", {"file_id": file_id})
        if info.json()["code"] == 20000:
            assert download.status_code == 200
            return True
        assert (info.status_code, info.json()["code"]) == (404, 40004)
        assert (download.status_code, download.json()["code"]) == (404, 40004)
        return False


@pytest.fixture(autouse=True)
def _local_storage(settings, tmp_path) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media"},
        },
    }


@pytest.fixture
def actor(make_user, client_for) -> Callable[[str], Actor]:
    def make(username: str) -> Actor:
        user = make_user(username)
        return Actor(user, client_for(user))

    return make


@pytest.fixture
def pair(actor) -> tuple[Actor, Actor]:
    alice, bob = actor("alice"), actor("bob")
    request_id = ok(alice.post("/friend/request/send", {"to_user_id": bob.id}))["request_id"]
    ok(bob.post("/friend/request/handle", {"request_id": request_id, "action": 2}))
    return alice, bob


def make_group(owner: Actor, *members: Actor) -> int:
    group_id = ok(owner.post("/group/create", {"group_name": "team"}))["group_id"]
    if members:
        ok(owner.post("/group/invite", {"group_id": group_id, "user_ids": [m.id for m in members]}))
    return group_id


# --- private chats --------------------------------------------------------------------------


def test_a_recalled_message_no_longer_shares_its_file(pair):
    alice, bob = pair
    file_id = alice.upload()
    message_id = alice.send(file_id, to=bob)
    assert bob.reads(file_id)
    ok(alice.post("/chat/message/recall", {"message_id": message_id}))
    assert not bob.reads(file_id)
    assert alice.reads(file_id)  # the uploader always keeps access
    # Bob may no longer see it at all, so deleting it is 40004, not 40003.
    refused = bob.client.delete(f"/file/delete?file_id={file_id}")
    assert (refused.status_code, refused.json()["code"]) == (404, 40004)


def test_another_visible_message_with_the_same_file_still_shares_it(pair):
    alice, bob = pair
    file_id = alice.upload()
    first = alice.send(file_id, to=bob)
    alice.send(file_id, to=bob)
    ok(alice.post("/chat/message/recall", {"message_id": first}))
    assert bob.reads(file_id)


def test_a_message_i_deleted_for_me_no_longer_shares_its_file(pair):
    alice, bob = pair
    file_id = alice.upload()
    message_id = alice.send(file_id, to=bob)
    ok(bob.post("/chat/message/delete", {"message_id": message_id}))
    assert not bob.reads(file_id)
    # Only for Bob: Alice deleting her own copy of the message leaves her the file she uploaded.
    ok(alice.post("/chat/message/delete", {"message_id": message_id}))
    assert alice.reads(file_id)


def test_clearing_the_conversation_stops_sharing_and_a_new_message_shares_again(pair):
    alice, bob = pair
    file_id = alice.upload()
    alice.send(file_id, to=bob)
    ok(bob.post("/chat/conversation/delete", {"target_id": alice.id, "chat_type": 0}))
    assert not bob.reads(file_id)
    alice.send(file_id, to=bob)
    assert bob.reads(file_id)


def test_the_recipient_of_someone_elses_file_message_reads_it_the_sender_too(pair, actor):
    """Bob received Alice's file; a third user never did."""
    alice, bob = pair
    file_id = alice.upload()
    alice.send(file_id, to=bob)
    assert bob.reads(file_id)
    assert not actor("carol").reads(file_id)


# --- groups ---------------------------------------------------------------------------------


def test_a_member_who_joined_later_does_not_read_earlier_files(actor):
    owner, early, late = actor("owner"), actor("early"), actor("late")
    group_id = make_group(owner, early)
    before = owner.upload(name="before.pdf")
    owner.send(before, group_id=group_id)
    ok(owner.post("/group/invite", {"group_id": group_id, "user_ids": [late.id]}))
    after = owner.upload(name="after.pdf")
    owner.send(after, group_id=group_id)
    assert early.reads(before) and early.reads(after)
    assert not late.reads(before)
    assert late.reads(after)


def test_leaving_and_rejoining_starts_over(actor):
    owner, member = actor("owner"), actor("member")
    group_id = make_group(owner, member)
    file_id = owner.upload()
    owner.send(file_id, group_id=group_id)
    assert member.reads(file_id)
    ok(member.post("/group/leave", {"group_id": group_id}))
    assert not member.reads(file_id)
    ok(owner.post("/group/invite", {"group_id": group_id, "user_ids": [member.id]}))
    assert not member.reads(file_id)  # the new membership's history starts after it


def test_kicked_members_and_dismissed_groups_share_nothing(actor):
    owner, kicked, stays = actor("owner"), actor("kicked"), actor("stays")
    group_id = make_group(owner, kicked, stays)
    file_id = owner.upload()
    owner.send(file_id, group_id=group_id)
    ok(owner.post("/group/kick", {"group_id": group_id, "user_id": kicked.id}))
    assert not kicked.reads(file_id)
    assert stays.reads(file_id)
    ok(owner.post("/group/dismiss", {"group_id": group_id}))
    assert not stays.reads(file_id)
    assert owner.reads(file_id)


def test_a_group_file_recalled_by_an_admin_is_kept_by_its_uploader_only(actor):
    owner, sender, member = actor("owner"), actor("sender"), actor("member")
    group_id = make_group(owner, sender, member)
    file_id = sender.upload()
    message_id = sender.send(file_id, group_id=group_id)
    assert member.reads(file_id) and owner.reads(file_id)
    ok(owner.post("/chat/message/recall", {"message_id": message_id}))
    assert not member.reads(file_id)
    assert not owner.reads(file_id)  # the owner recalled it; owning the group is no right to it
    assert sender.reads(file_id)
    # The uploader keeps it after leaving the group too.
    ok(sender.post("/group/leave", {"group_id": group_id}))
    assert sender.reads(file_id)


def test_a_group_file_message_deleted_for_me_is_gone_for_me_only(actor):
    owner, a, b = actor("owner"), actor("a"), actor("b")
    group_id = make_group(owner, a, b)
    file_id = owner.upload()
    message_id = owner.send(file_id, group_id=group_id)
    ok(a.post("/chat/message/delete", {"message_id": message_id}))
    assert not a.reads(file_id)
    assert b.reads(file_id)


def test_a_group_file_is_not_shared_with_a_private_peer_of_a_member(pair, actor):
    """Only the conversation that holds the message: Bob is Alice's friend, not a member."""
    alice, bob = pair
    group_id = make_group(alice, actor("carol"))
    file_id = alice.upload()
    alice.send(file_id, group_id=group_id)
    assert not bob.reads(file_id)


# --- the rule is the history's rule, in one query ------------------------------------------


def test_the_files_rule_mirrors_what_history_shows(actor, pair):
    """For every (user, message) of a mixed world, the file is shared exactly when the message
    shows in that user's history and is not recalled."""
    alice, bob = pair
    carol, dave = actor("carol"), actor("dave")
    group_id = make_group(alice, bob, carol)
    messages = [
        alice.send(alice.upload(name="p1.pdf"), to=bob),
        alice.send(alice.upload(name="g1.pdf"), group_id=group_id),
        bob.send(bob.upload(name="g2.pdf"), group_id=group_id),
    ]
    ok(carol.post("/chat/message/delete", {"message_id": messages[1]}))
    ok(bob.post("/chat/message/recall", {"message_id": messages[2]}))
    ok(alice.post("/group/invite", {"group_id": group_id, "user_ids": [dave.id]}))
    messages.append(carol.send(carol.upload(name="g3.pdf"), group_id=group_id))
    ok(bob.post("/chat/conversation/delete", {"target_id": group_id, "chat_type": 1}))
    messages.append(alice.send(alice.upload(name="g4.pdf"), group_id=group_id))

    everyone = [alice, bob, carol, dave]

    def in_history(user: User, message_id: int) -> bool:
        """What chat's own history selector shows ``user`` (every conversation they have)."""
        conversations = [(ChatType.GROUP, group_id)] + [
            (ChatType.PRIVATE, other.id) for other in everyone if other.id != user.pk
        ]
        for chat_type, target_id in conversations:
            try:
                page, _more = chat_selectors.message_history(
                    user=user, chat_type=chat_type, target_id=target_id, limit=100
                )
            except AppError:  # not (or no longer) a member
                continue
            if any(m.pk == message_id and not m.is_recalled for m in page):
                return True
        return False

    users = [a.user for a in everyone]
    for user, message_id in product(users, messages):
        expected = in_history(user, message_id)
        shared = messages_visible_in_history(user=user).filter(pk=message_id).exists()
        assert shared == expected, (user.username, message_id)
    assert {
        (u.username, f.file_name)
        for u, f in product(users, File.objects.all())
        if file_is_shared_with(user=u, file=f)
    } == {
        ("alice", "p1.pdf"),
        ("bob", "p1.pdf"),
        ("alice", "g1.pdf"),  # Carol deleted it for herself, Bob cleared the group later
        ("alice", "g3.pdf"),
        ("dave", "g3.pdf"),
        ("carol", "g3.pdf"),
        ("alice", "g4.pdf"),
        ("bob", "g4.pdf"),
        ("carol", "g4.pdf"),
        ("dave", "g4.pdf"),
    }


def test_reading_a_file_is_one_query_however_many_messages_carry_it(
    actor, django_assert_num_queries
):
    owner = actor("owner")
    members = [actor(f"m{n}") for n in range(3)]
    group_id = make_group(owner, *members)
    file_id = owner.upload()
    for _ in range(5):
        owner.send(file_id, group_id=group_id)
    with django_assert_num_queries(1):
        assert str(file_get_readable(user=members[0].user, file_id=file_id).pk) == file_id
    Group.objects.filter(pk=group_id).update(status=Group.Status.DISMISSED)
    with django_assert_num_queries(1), pytest.raises(AppError) as refused:
        file_get_readable(user=members[0].user, file_id=file_id)
    assert refused.value.error_code == 40004
    with django_assert_num_queries(0), pytest.raises(AppError):
        file_get_readable(user=members[0].user, file_id="not-a-uuid")
