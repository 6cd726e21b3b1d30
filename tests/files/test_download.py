"""7.2 download: streamed bytes, headers, Range (both storages)."""

import hashlib
from urllib.parse import quote

import pytest

from files.models import File
from tests.files.conftest import make_png

pytestmark = pytest.mark.django_db

CONTENT = bytes(range(256)) * 40  # 10240 bytes


@pytest.fixture
def owner(make_user):
    return make_user("owner")


@pytest.fixture
def stored(owner, client_for, upload) -> dict:
    return upload(client_for(owner), CONTENT, "data.bin")["data"]


def download(client, file_id: str, **headers: str):
    return client.get("/file/download", {"file_id": file_id}, **headers)


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


def test_full_download_streams_the_bytes_with_headers(owner, client_for, stored):
    response = download(client_for(owner), stored["file_id"])
    assert response.status_code == 200 and response.streaming
    assert body_of(response) == CONTENT
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Length"] == str(len(CONTENT))
    assert response["ETag"] == f'"{hashlib.md5(CONTENT).hexdigest()}"'
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Disposition"] == (
        "attachment; filename=\"data.bin\"; filename*=UTF-8''data.bin"
    )
    assert "Content-Range" not in response


def test_png_downloads_as_image_png(owner, client_for, upload):
    png = make_png()
    data = upload(client_for(owner), png, "x.txt", content_type="text/plain")["data"]
    response = download(client_for(owner), data["file_id"])
    assert response["Content-Type"] == "image/png" and body_of(response) == png


def test_text_downloads_with_utf8_charset(owner, client_for, upload):
    data = upload(client_for(owner), "你好\n".encode(), "note.txt")["data"]
    response = download(client_for(owner), data["file_id"])
    assert response["Content-Type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=1000-", 1000, 10239),
        ("bytes=-16", 10224, 10239),
        ("bytes=10000-99999", 10000, 10239),
        ("bytes=10239-10239", 10239, 10239),
    ],
)
def test_single_range_is_a_206(owner, client_for, stored, header, start, end):
    response = download(client_for(owner), stored["file_id"], HTTP_RANGE=header)
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {start}-{end}/{len(CONTENT)}"
    assert response["Content-Length"] == str(end - start + 1)
    assert body_of(response) == CONTENT[start : end + 1]


@pytest.mark.parametrize("header", ["bytes=10240-", "bytes=99999-100000", "bytes=-0"])
def test_unsatisfiable_range_is_a_416_envelope(owner, client_for, stored, header):
    response = download(client_for(owner), stored["file_id"], HTTP_RANGE=header)
    assert response.status_code == 416
    assert response.json()["code"] == 40000
    assert response["Content-Range"] == f"bytes */{len(CONTENT)}"


@pytest.mark.parametrize("header", ["bytes=0-1,5-9", "bytes=9-3", "items=0-5", "bytes=abc"])
def test_unusable_range_headers_get_the_whole_file(owner, client_for, stored, header):
    response = download(client_for(owner), stored["file_id"], HTTP_RANGE=header)
    assert response.status_code == 200 and body_of(response) == CONTENT


def test_if_range_with_another_etag_gets_the_whole_file(owner, client_for, stored):
    client = client_for(owner)
    stale = download(client, stored["file_id"], HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"old"')
    assert stale.status_code == 200
    fresh = download(
        client, stored["file_id"], HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=f'"{stored["etag"]}"'
    )
    assert fresh.status_code == 206 and body_of(fresh) == CONTENT[:10]


def test_utf8_file_name_in_content_disposition(owner, client_for, upload):
    name = '季度 "报告" é.pdf'
    data = upload(client_for(owner), b"%PDF-1.4 hello", name)["data"]
    assert data["file_name"] == name
    disposition = download(client_for(owner), data["file_id"])["Content-Disposition"]
    assert disposition == (
        f"attachment; filename=\"__ ____ e.pdf\"; filename*=UTF-8''{quote(name, safe='')}"
    )


def test_a_stranger_is_refused_with_40004(make_user, client_for, stored):
    response = download(client_for(make_user("stranger")), stored["file_id"])
    assert (response.status_code, response.json()["code"]) == (404, 40004)


def test_expired_file_is_40004_even_for_the_uploader(owner, client_for, stored):
    File.objects.filter(pk=stored["file_id"]).update(expire_at="2000-01-01T00:00:00Z")
    response = download(client_for(owner), stored["file_id"])
    assert (response.status_code, response.json()["code"]) == (404, 40004)


def test_missing_stored_object_is_40004(owner, client_for, stored, file_storage):
    file_storage.storage.delete(File.objects.get(pk=stored["file_id"]).storage_name)
    response = download(client_for(owner), stored["file_id"])
    assert response.json()["code"] == 40004


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, 40000),
        ({"file_id": ""}, 40000),
        ({"file_id": "../../etc/passwd"}, 40000),
        ({"file_id": "12345"}, 40000),
        ({"file_id": "bfaed552-3886-4dc0-84bc-c6826a1fb3f9"}, 40004),
    ],
)
def test_bad_or_unknown_file_id(owner, client_for, file_storage, params, code):
    response = client_for(owner).get("/file/download", params)
    assert response.json()["code"] == code
    if code == 40000:
        assert "file_id" in response.json()["message"]


def test_download_needs_a_token(api_client, stored):
    assert download(api_client, stored["file_id"]).json()["code"] == 40001
