"""Messages of types 1-4 carry the sender's own upload; its conversation may then read the file."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from files.models import File
from tests.chat.conftest import ok
from tests.files.conftest import make_png

pytestmark = pytest.mark.django_db

FILE_FIELDS = {
    "file_id",
    "file_name",
    "file_size",
    "content_type",
    "user_id",
    "created_at",
    "expire_at",
    "etag",
    "file_type",
}


@pytest.fixture(autouse=True)
def _local_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media"},
        },
    }


def upload(actor, content: bytes = b"", name: str = "pic.png") -> str:
    part = SimpleUploadedFile(name, content or make_png(), content_type="image/png")
    response = actor.client.post("/file/upload", {"file": part}, format="multipart")
    return ok(response)["file_id"]


@pytest.fixture
def trio(actor, befriend):
    a, b, stranger = actor("alice"), actor("bob"), actor("stranger")
    befriend(a, b)
    return a, b, stranger


def test_an_image_message_carries_the_file_everywhere(
    trio, push_recorder, django_capture_on_commit_callbacks
):
    a, b, _stranger = trio
    file_id = upload(a)
    push_recorder.listen(b.id)
    with django_capture_on_commit_callbacks(execute=True):
        message = a.send_to_user(b, file_id, type=1)
    assert (message["type"], message["content"]) == (1, file_id)
    assert set(message["file"]) == FILE_FIELDS
    assert (message["file"]["file_id"], message["file"]["file_type"]) == (file_id, "image")
    [event] = push_recorder.events(b.id)
    assert (event["data"]["message_type"], event["data"]["file"]["file_id"]) == ("image", file_id)
    assert b.history(a.id, 0)["messages"][0]["file"]["file_id"] == file_id
    assert b.conversations()[0]["last_message"] == "[图片]"


def test_only_my_own_unexpired_upload_can_be_sent(trio):
    a, b, stranger = trio
    theirs = upload(stranger)
    mine = upload(a)
    File.objects.filter(pk=mine).update(expire_at=timezone.now() - timedelta(seconds=1))
    for content in (theirs, mine, "3f1e0c52-0000-4000-8000-000000000000", "not-a-uuid"):
        body = {"to_user_id": b.id, "chat_type": 0, "type": 2, "content": content}
        response = a.post("/chat/send", body)
        assert (response.status_code, response.json()["code"]) == (400, 40000)
        assert "content" in response.json()["message"]


def test_the_recipient_may_download_a_stranger_may_not(trio):
    a, b, stranger = trio
    file_id = upload(a)
    assert b.get("/file/info", {"file_id": file_id}).json()["code"] == 40004
    a.send_to_user(b, file_id, type=1)
    assert ok(b.get("/file/info", {"file_id": file_id}))["file_id"] == file_id
    assert b.get("/file/download", {"file_id": file_id}).status_code == 200
    assert stranger.get("/file/info", {"file_id": file_id}).json()["code"] == 40004
    assert stranger.get("/file/download", {"file_id": file_id}).status_code == 404
    # Deleting stays the uploader's right.
    refused = b.client.delete(f"/file/delete?file_id={file_id}")
    assert (refused.status_code, refused.json()["code"]) == (403, 40003)


def test_group_members_may_read_a_shared_file(actor, make_group):
    owner, member, outsider = actor("owner"), actor("member"), actor("outsider")
    group_id = make_group(owner, member)
    file_id = upload(owner, b"%PDF-1.4 minimal", name="report.pdf")
    message = owner.send_to_group(group_id, file_id, type=2)
    assert message["file"]["file_type"] == "file"
    assert ok(member.get("/file/info", {"file_id": file_id}))["file_name"] == "report.pdf"
    assert outsider.get("/file/info", {"file_id": file_id}).json()["code"] == 40004
