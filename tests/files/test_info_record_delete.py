"""7.3 delete, 7.4 info, 7.5 record, and the selectors the chat work builds on."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chat.file_access import file_get_readable
from files.models import File
from files.selectors import file_get_for_message
from imserver.api.errors import AppError

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(make_user):
    return make_user("owner")


@pytest.fixture
def stored(owner, client_for, upload) -> dict:
    return upload(client_for(owner), b"hello world", "hello.txt")["data"]


def expire(file_id: str) -> None:
    File.objects.filter(pk=file_id).update(expire_at=timezone.now() - timedelta(seconds=1))


# --- 7.4 info ---------------------------------------------------------------------------------


def test_info_returns_the_upload_response_object(owner, client_for, stored):
    response = client_for(owner).get("/file/info", {"file_id": stored["file_id"]})
    assert response.json() == {"code": 20000, "message": "success", "data": stored}


def test_info_for_a_stranger_or_an_expired_file_is_40004(make_user, owner, client_for, stored):
    stranger = client_for(make_user("stranger"))
    assert stranger.get("/file/info", {"file_id": stored["file_id"]}).json()["code"] == 40004
    expire(stored["file_id"])
    response = client_for(owner).get("/file/info", {"file_id": stored["file_id"]})
    assert (response.status_code, response.json()["code"]) == (404, 40004)


def test_info_with_a_malformed_id_is_40000(owner, client_for, file_storage):
    response = client_for(owner).get("/file/info", {"file_id": "not-a-uuid"})
    assert response.json()["code"] == 40000 and "file_id" in response.json()["message"]


# --- 7.5 record -------------------------------------------------------------------------------


def test_record_lists_my_unexpired_uploads_newest_first(
    make_user, owner, client_for, upload, django_assert_max_num_queries
):
    client = client_for(owner)
    ids = [upload(client, f"file {n}".encode(), f"{n}.txt")["data"]["file_id"] for n in range(5)]
    upload(client_for(make_user("other")), b"not mine", "other.txt")
    expire(ids[0])
    # The same whole second for all of them: order must still be exact.
    File.objects.update(created_at=File.objects.get(pk=ids[4]).created_at.replace(microsecond=0))
    for offset, file_id in enumerate(ids):
        File.objects.filter(pk=file_id).update(
            created_at=File.objects.get(pk=file_id).created_at + timedelta(microseconds=offset)
        )

    with django_assert_max_num_queries(3):
        data = client.get("/file/record").json()["data"]
    assert data["total"] == 4
    assert [record["file_id"] for record in data["file_records"]] == ids[:0:-1]


def test_record_pages(owner, client_for, upload):
    client = client_for(owner)
    ids = [upload(client, b"x", f"{n}.txt")["data"]["file_id"] for n in range(3)]
    page = client.get("/file/record", {"page": 2, "page_size": 2}).json()["data"]
    assert page["total"] == 3
    assert [record["file_id"] for record in page["file_records"]] == [ids[0]]
    assert client.get("/file/record", {"page_size": 501}).json()["code"] == 40000


def test_record_is_empty_for_a_new_user(make_user, client_for):
    data = client_for(make_user()).get("/file/record").json()["data"]
    assert data == {"file_records": [], "total": 0}


# --- 7.3 delete -------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["query", "json", "form"])
def test_uploader_deletes_and_the_object_goes_too(owner, client_for, stored, file_storage, where):
    storage_name = File.objects.get(pk=stored["file_id"]).storage_name
    assert file_storage.exists(storage_name)
    client = client_for(owner)
    if where == "query":
        response = client.delete(f"/file/delete?file_id={stored['file_id']}")
    elif where == "json":
        response = client.delete("/file/delete", {"file_id": stored["file_id"]}, format="json")
    else:
        response = client.delete(
            "/file/delete",
            f"file_id={stored['file_id']}",
            content_type="application/x-www-form-urlencoded",
        )
    assert response.json() == {"code": 20000, "message": "success", "data": {"message": "删除成功"}}
    assert not File.objects.filter(pk=stored["file_id"]).exists()
    assert not file_storage.exists(storage_name)
    assert client.get("/file/info", {"file_id": stored["file_id"]}).json()["code"] == 40004


def test_a_stranger_cannot_delete(make_user, client_for, stored):
    response = client_for(make_user("stranger")).delete(
        "/file/delete", {"file_id": stored["file_id"]}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (404, 40004)
    assert File.objects.filter(pk=stored["file_id"]).exists()


def test_deleting_an_expired_or_deleted_file_is_40004(owner, client_for, stored):
    client = client_for(owner)
    expire(stored["file_id"])
    assert client.delete(f"/file/delete?file_id={stored['file_id']}").json()["code"] == 40004


@pytest.mark.parametrize("body", [None, {}, {"file_id": 5}, {"file_id": "nope"}])
def test_delete_with_a_missing_or_malformed_id_is_40000(owner, client_for, file_storage, body):
    response = client_for(owner).delete("/file/delete", body, format="json")
    assert response.json()["code"] == 40000 and "file_id" in response.json()["message"]


def test_delete_with_a_body_that_is_no_object_is_40000(owner, client_for):
    response = client_for(owner).delete("/file/delete", ["x"], format="json")
    assert response.json() == {"code": 40000, "message": "参数错误: 请求体必须是 JSON 对象"}


def test_delete_on_another_file_path_is_405(owner, client_for, stored):
    response = client_for(owner).delete(f"/file/download?file_id={stored['file_id']}")
    assert (response.status_code, response.json()["code"]) == (405, 40000)
    assert File.objects.filter(pk=stored["file_id"]).exists()


# --- selectors for the chat work ------------------------------------------------------------


def test_file_get_readable_allows_the_uploader_not_a_stranger(make_user, owner, stored):
    assert str(file_get_readable(user=owner, file_id=stored["file_id"]).pk) == stored["file_id"]
    with pytest.raises(AppError) as refused:
        file_get_readable(user=make_user("stranger"), file_id=stored["file_id"])
    assert refused.value.error_code == 40004


def test_file_get_for_message_takes_only_my_unexpired_upload(make_user, owner, stored):
    assert file_get_for_message(user=owner, file_id=stored["file_id"]).file_name == "hello.txt"
    for user, file_id in [
        (make_user("stranger"), stored["file_id"]),
        (owner, "not-a-uuid"),
        (owner, "bfaed552-3886-4dc0-84bc-c6826a1fb3f9"),
    ]:
        with pytest.raises(AppError) as refused:
            file_get_for_message(user=user, file_id=file_id)
        assert refused.value.error_code == 40000
    expire(stored["file_id"])
    with pytest.raises(AppError):
        file_get_for_message(user=owner, file_id=stored["file_id"])
