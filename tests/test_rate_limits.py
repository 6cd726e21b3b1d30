"""Abuse limits answer 42900 (HTTP 429), are configurable, and IM_THROTTLE=0 turns them off."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import User
from imserver.api.throttling import parse_rate
from social.models import FriendRequest

pytestmark = pytest.mark.django_db


def register(client, n: int, **extra):
    body = {"username": f"reg{n}", "password": "123456", "email": f"reg{n}@e.com"}
    return client.post("/register", body, format="json", **extra)


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [("20/s", (20, 1)), ("60/min", (60, 60)), ("100/h", (100, 3600)), ("5/day", (5, 86400))],
)
def test_rates_parse(rate, parsed):
    assert parse_rate(rate) == parsed


@pytest.mark.parametrize("rate", ["", "x/s", "10", "10/fortnight"])
def test_bad_rates_are_refused(rate):
    with pytest.raises(ValueError):
        parse_rate(rate)


def test_registrations_are_limited_per_ip(api_client, settings):
    settings.IM_RATE_REGISTER_PER_IP = "3/h"
    assert [register(api_client, n).json()["code"] for n in range(3)] == [20000] * 3
    refused = register(api_client, 3)
    assert (refused.status_code, refused.json()["code"]) == (429, 42900)
    assert not User.objects.filter(username="reg3").exists()
    assert register(api_client, 4, REMOTE_ADDR="10.1.2.3").json()["code"] == 20000


def test_friend_requests_are_limited_per_user(make_user, client_for, settings):
    settings.IM_RATE_FRIEND_REQUESTS_PER_USER = "2/h"
    me, targets = make_user("me"), [make_user() for _ in range(3)]
    client = client_for(me)
    codes = [
        client.post("/friend/request/send", {"to_user_id": t.pk}, format="json").json()["code"]
        for t in targets
    ]
    assert codes == [20000, 20000, 42900]
    assert FriendRequest.objects.count() == 2
    # Another user has their own budget.
    other = client_for(targets[0]).post(
        "/friend/request/send", {"to_user_id": targets[1].pk}, format="json"
    )
    assert other.json()["code"] == 20000


def test_uploads_are_limited_per_user(make_user, client_for, settings, tmp_path):
    settings.IM_RATE_UPLOADS_PER_USER = "2/min"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path},
        },
    }
    client = client_for(make_user("me"))

    def upload():
        part = SimpleUploadedFile("a.txt", b"hello", content_type="text/plain")
        return client.post("/file/upload", {"file": part}, format="multipart")

    assert [upload().json()["code"] for _ in range(3)] == [20000, 20000, 42900]


def test_im_throttle_0_turns_every_limit_off(api_client, settings):
    settings.IM_THROTTLE = False
    settings.IM_RATE_REGISTER_PER_IP = "1/h"
    assert [register(api_client, n).json()["code"] for n in range(3)] == [20000] * 3
