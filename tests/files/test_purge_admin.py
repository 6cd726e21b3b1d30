"""purge_expired_files and the admin delete, on both storages."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from files.models import File

pytestmark = pytest.mark.django_db


def test_purge_removes_expired_objects_and_rows_only(
    make_user, client_for, upload, file_storage, settings
):
    client = client_for(make_user())
    kept = upload(client, b"fresh", "fresh.txt")["data"]
    settings.IM_FILE_TTL_S = 0  # expires at once
    gone = [upload(client, f"old {n}".encode(), "old.txt")["data"] for n in range(3)]
    gone_names = [File.objects.get(pk=data["file_id"]).storage_name for data in gone]
    assert all(file_storage.exists(name) for name in gone_names)

    out = StringIO()
    call_command("purge_expired_files", stdout=out)

    assert out.getvalue().strip() == "Purged 3 expired file(s)."
    assert list(File.objects.values_list("pk", flat=True)) == [
        File.objects.get(pk=kept["file_id"]).pk
    ]
    assert not any(file_storage.exists(name) for name in gone_names)
    assert file_storage.exists(File.objects.get().storage_name)


def test_purge_tolerates_an_object_already_gone(make_user, client_for, upload, file_storage):
    data = upload(client_for(make_user()), b"x", "x.txt")["data"]
    file = File.objects.get(pk=data["file_id"])
    file_storage.storage.delete(file.storage_name)
    File.objects.filter(pk=file.pk).update(expire_at=timezone.now() - timedelta(seconds=1))
    call_command("purge_expired_files", stdout=StringIO())
    assert not File.objects.exists()


@pytest.fixture
def admin_client_logged_in(client, make_user):
    admin = make_user("boss", is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


def test_admin_lists_and_searches_files(admin_client_logged_in, make_user, client_for, upload):
    owner = make_user("carol")
    upload(client_for(owner), b"report", "report.pdf")
    response = admin_client_logged_in.get("/admin/files/file/", {"q": "carol"})
    assert response.status_code == 200 and b"report.pdf" in response.content


def test_admin_delete_action_removes_the_stored_object(
    admin_client_logged_in, make_user, client_for, upload, file_storage
):
    data = upload(client_for(make_user()), b"bytes", "x.txt")["data"]
    file = File.objects.get(pk=data["file_id"])
    response = admin_client_logged_in.post(
        "/admin/files/file/",
        {"action": "delete_selected", "_selected_action": [str(file.pk)], "post": "yes"},
    )
    assert response.status_code == 302
    assert not File.objects.exists()
    assert not file_storage.exists(file.storage_name)


def test_admin_delete_view_removes_the_stored_object(
    admin_client_logged_in, make_user, client_for, upload, file_storage
):
    data = upload(client_for(make_user()), b"bytes", "x.txt")["data"]
    file = File.objects.get(pk=data["file_id"])
    response = admin_client_logged_in.post(f"/admin/files/file/{file.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not File.objects.exists()
    assert not file_storage.exists(file.storage_name)
