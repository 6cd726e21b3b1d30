"""``manage.py seed_demo``: a usable world, the same after a second run."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from accounts.models import User
from chat.models import Message
from files.models import File
from groups.models import Group, GroupMember
from social.models import Friendship

pytestmark = pytest.mark.django_db


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def world() -> dict[str, object]:
    group = Group.objects.get(name="Demo group")
    return {
        "users": sorted(User.objects.values_list("username", flat=True)),
        "friendships": Friendship.objects.count(),
        "members": sorted(
            GroupMember.objects.filter(group=group).values_list("user__username", flat=True)
        ),
        "member_count": group.member_count,
        "messages": sorted(Message.objects.values_list("client_msg_id", "seq")),
        "files": File.objects.count(),
    }


def login(username: str) -> APIClient:
    client = APIClient()
    response = client.post("/login", {"username": username, "password": "demo1234"}, format="json")
    assert response.json()["code"] == 20000, response.json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['data']['access_token']}")
    return client


def test_seed_twice_builds_one_world_and_prints_how_to_log_in(settings, tmp_path):
    settings.DEBUG = True
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path},
        },
    }
    first = seed()
    assert "Created: user alice" in first
    assert "password demo1234" in first and "/admin/" in first and "/api/docs" in first
    after_first = world()

    second = seed()
    assert "nothing changed" in second
    assert world() == after_first

    assert after_first["users"] == ["admin", "alice", "bob", "carol"]
    assert after_first["members"] == ["alice", "bob", "carol"]
    assert after_first["member_count"] == 3
    assert after_first["files"] == 1
    assert User.objects.get(username="admin").is_staff
    assert not User.objects.get(username="alice").is_staff

    # The world is usable through the API: conversations with the seeded messages.
    alice = login("alice")
    conversations = alice.get("/chat/conversation/list").json()["data"]
    assert len(conversations) == 2  # bob, and the group
    group_id = Group.objects.get(name="Demo group").pk
    history = alice.get(f"/chat/history?target_id={group_id}&chat_type=1").json()["data"]
    assert sorted(m["seq"] for m in history["messages"]) == [1, 2, 3, 4]
    friends = login("carol").get("/friend/list").json()["data"]
    assert len(friends) == 2


def test_refuses_without_debug_unless_forced(settings, tmp_path):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG=1"):
        seed()
    assert not User.objects.exists()
