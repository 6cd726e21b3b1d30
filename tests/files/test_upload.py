"""7.1 upload: sniffed type, MD5 etag, TTL, sanitized names, limits (both storages)."""

import hashlib
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from files.models import File
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
BOUNDARY = "----im-test-boundary"


def raw_multipart(disposition: bytes, content: bytes, part_type: bytes = b"text/plain") -> bytes:
    """A multipart body whose file part carries exactly ``disposition``'s parameters."""
    return (
        f"--{BOUNDARY}\r\n".encode()
        + b"Content-Disposition: form-data; "
        + disposition
        + b"\r\nContent-Type: "
        + part_type
        + b"\r\n\r\n"
        + content
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


def post_raw(client, body: bytes):
    return client.post(
        "/file/upload", data=body, content_type=f"multipart/form-data; boundary={BOUNDARY}"
    )


def test_png_with_a_lying_client_type_is_sniffed_from_its_bytes(
    make_user, client_for, upload, file_storage, settings
):
    user = make_user()
    png = make_png(4, 3)
    body = upload(client_for(user), png, "holiday.txt", content_type="text/plain")
    assert body["code"] == 20000
    data = body["data"]
    assert set(data) == FILE_FIELDS
    assert data["content_type"] == "image/png"
    assert data["file_type"] == "image"
    assert data["file_name"] == "holiday.txt"
    assert data["file_size"] == len(png)
    assert data["etag"] == hashlib.md5(png).hexdigest()
    assert data["user_id"] == user.id
    assert data["expire_at"] - data["created_at"] == settings.IM_FILE_TTL_S

    stored = File.objects.get(pk=data["file_id"])
    assert stored.expire_at - stored.created_at == timedelta(seconds=settings.IM_FILE_TTL_S)
    # The object is named after the UUID, never after the user's file name.
    assert str(stored.pk) in stored.storage_name and "holiday" not in stored.storage_name
    assert file_storage.read(stored.storage_name) == png


@pytest.mark.parametrize(
    ("content", "client_type", "content_type", "file_type"),
    [
        ("你好, plain UTF-8 text\n".encode(), "image/png", "text/plain", "file"),
        (b"\x00\x01\x02binary\xff\xfe", "text/plain", "application/octet-stream", "file"),
        (b"GIF89a" + b"\x01\x00\x01\x00\x00\x00\x00;", "text/plain", "image/gif", "image"),
        (b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\x00" * 32, "text/plain", "audio/mpeg", "audio"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom", "image/png", "video/mp4", "video"),
    ],
)
def test_content_type_and_file_type_come_from_the_bytes(
    make_user, client_for, upload, content, client_type, content_type, file_type
):
    data = upload(client_for(make_user()), content, "x.bin", content_type=client_type)["data"]
    assert (data["content_type"], data["file_type"]) == (content_type, file_type)


def test_text_detection_covers_the_whole_file(make_user, client_for, upload):
    # Valid UTF-8 for the first 100 kB, then a NUL byte: not text.
    content = b"a" * 100_000 + b"\x00"
    data = upload(client_for(make_user()), content, "log.txt")["data"]
    assert data["content_type"] == "application/octet-stream"


def test_utf8_file_name_is_kept(make_user, client_for, upload):
    data = upload(client_for(make_user()), b"hello", "季度报告 ✓ (最终).txt")["data"]
    assert data["file_name"] == "季度报告 ✓ (最终).txt"


@pytest.mark.parametrize(
    ("disposition", "expected"),
    [
        (b'filename="../../etc/passwd"', "passwd"),
        (b'filename="C:\\\\Users\\\\me\\\\secret.doc"', "secret.doc"),
        ('filename="ta\u202eb\u200bx\tname.txt"'.encode(), "tabxname.txt"),
        (b"filename*=UTF-8''%E6%96%87%E4%BB%B6.txt", "文件.txt"),
        (b'filename=".."', None),
    ],
)
def test_file_names_are_sanitized(make_user, client_for, file_storage, disposition, expected):
    body = raw_multipart(b'name="file"; ' + disposition, b"data")
    response = post_raw(client_for(make_user()), body)
    if expected is None:  # no usable name: not a file part at all
        assert response.json()["code"] == 40000
        assert "file" in response.json()["message"]
        return
    assert response.json()["data"]["file_name"] == expected


def test_a_very_long_name_is_bounded_and_keeps_its_extension(make_user, client_for, upload):
    data = upload(client_for(make_user()), b"data", "长" * 300 + ".pdf")["data"]
    assert len(data["file_name"]) == 255 and data["file_name"].endswith(".pdf")


def test_empty_file_is_refused(make_user, client_for, upload):
    body = upload(client_for(make_user()), b"", "empty.txt")
    assert (body["_status"], body["code"]) == (400, 40000)
    assert "file" in body["message"]
    assert File.objects.count() == 0


@pytest.mark.parametrize(
    "data",
    [{}, {"file": "just a string"}, {"other": SimpleUploadedFile("a.txt", b"x")}],
    ids=["nothing", "string", "other-field"],
)
def test_missing_file_part_is_a_40000_naming_file(make_user, client_for, file_storage, data):
    response = client_for(make_user()).post("/file/upload", data, format="multipart")
    assert (response.status_code, response.json()["code"]) == (400, 40000)
    assert "file" in response.json()["message"]


def test_only_the_first_file_part_is_kept(make_user, client_for, file_storage):
    first, second = SimpleUploadedFile("1.txt", b"one"), SimpleUploadedFile("2.txt", b"two")
    response = client_for(make_user()).post(
        "/file/upload", {"file": [first, second]}, format="multipart"
    )
    assert response.json()["data"]["file_name"] == "1.txt"
    assert File.objects.count() == 1


def test_upload_at_the_limit_passes_and_one_byte_more_is_413(
    make_user, client_for, upload, settings
):
    settings.IM_MAX_UPLOAD_BYTES = 1000
    client = client_for(make_user())
    assert upload(client, b"x" * 1000)["code"] == 20000
    body = upload(client, b"x" * 1001)
    assert (body["_status"], body["code"]) == (413, 40000)
    assert "file" in body["message"] and "1000" in body["message"]
    assert File.objects.count() == 1


def test_oversized_content_length_is_refused_before_parsing(
    make_user, client_for, upload, settings
):
    settings.IM_MAX_UPLOAD_BYTES = 1024 * 1024
    body = upload(client_for(make_user()), b"x" * (2 * 1024 * 1024), HTTP_ACCEPT_LANGUAGE="en")
    assert (body["_status"], body["code"]) == (413, 40000)
    assert body["message"] == "Invalid parameter: file: file must be at most 1 MiB"
    assert File.objects.count() == 0


def test_upload_needs_a_token(api_client, file_storage):
    response = api_client.post(
        "/file/upload", {"file": SimpleUploadedFile("a.txt", b"x")}, format="multipart"
    )
    assert response.json()["code"] == 40001


def test_wrong_method_is_405_with_40000(make_user, client_for):
    response = client_for(make_user()).get("/file/upload")
    assert (response.status_code, response.json()["code"]) == (405, 40000)


def test_a_failing_store_is_50001_and_leaves_no_row(make_user, client_for, moto_server, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "access_key": "testing",
                "secret_key": "testing",
                "region_name": "us-east-1",
                "bucket_name": "no-such-bucket-here",
                "endpoint_url": moto_server.endpoint_url,
            },
        },
    }
    response = client_for(make_user()).post(
        "/file/upload", {"file": SimpleUploadedFile("a.txt", b"x")}, format="multipart"
    )
    assert (response.status_code, response.json()["code"]) == (503, 50001)
    assert File.objects.count() == 0


def test_the_storage_quota_counts_unexpired_uploads_per_user(
    make_user, client_for, upload, file_storage, settings
):
    settings.IM_STORAGE_QUOTA_BYTES = 2500
    alice, bob = make_user(), make_user()
    client = client_for(alice)
    assert upload(client, b"a" * 1000)["code"] == 20000
    assert upload(client, b"b" * 1500)["code"] == 20000  # exactly at the quota
    body = upload(client, b"c", HTTP_ACCEPT_LANGUAGE="en")
    assert (body["_status"], body["code"]) == (413, 40000)
    assert "quota" in body["message"]
    assert File.objects.filter(user=alice).count() == 2
    assert upload(client_for(bob), b"d" * 2500)["code"] == 20000  # per user

    File.objects.filter(user=alice, file_size=1500).update(expire_at=timezone.now())
    assert upload(client, b"e" * 1500)["code"] == 20000  # expired files no longer count
    settings.IM_STORAGE_QUOTA_BYTES = 0
    assert upload(client, b"f" * 5000)["code"] == 20000  # 0: no quota
