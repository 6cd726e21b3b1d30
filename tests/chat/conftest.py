"""Chat tests build their world through the public API: friendships, groups and uploads."""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from chat import permissions, store
from chat.models import Message


def ok(response) -> dict:
    body = response.json()
    assert body["code"] == 20000, body
    return body["data"]


@dataclass
class Actor:
    user: User
    client: APIClient

    @property
    def id(self) -> int:
        return self.user.pk

    def post(self, path: str, body: dict | None = None, **extra):
        return self.client.post(path, body or {}, format="json", **extra)

    def get(self, path: str, params: dict | None = None):
        return self.client.get(path, params or {})

    def send_to_user(self, peer: "Actor", content: str = "hi", **fields) -> dict:
        body = {"to_user_id": peer.id, "type": 0, "content": content, "chat_type": 0, **fields}
        return ok(self.post("/chat/send", body))

    def send_to_group(self, group_id: int, content: str = "hi", **fields) -> dict:
        body = {"group_id": group_id, "type": 0, "content": content, "chat_type": 1, **fields}
        return ok(self.post("/chat/send", body))

    def history(self, target_id: int, chat_type: int, **params) -> dict:
        return ok(
            self.get("/chat/history", {"target_id": target_id, "chat_type": chat_type, **params})
        )

    def conversations(self) -> list[dict]:
        return ok(self.get("/chat/conversation/list"))


@pytest.fixture
def actor(make_user, client_for) -> Callable[..., Actor]:
    def make(username: str | None = None, **fields) -> Actor:
        user = make_user(username, **fields)
        return Actor(user, client_for(user))

    return make


@pytest.fixture
def befriend() -> Callable[[Actor, Actor], None]:
    def make(a: Actor, b: Actor) -> None:
        request_id = ok(a.post("/friend/request/send", {"to_user_id": b.id}))["request_id"]
        ok(b.post("/friend/request/handle", {"request_id": request_id, "action": 2}))

    return make


@pytest.fixture
def make_group() -> Callable[..., int]:
    def make(owner: Actor, *members: Actor, name: str = "team") -> int:
        group_id = ok(owner.post("/group/create", {"group_name": name}))["group_id"]
        if members:
            ok(
                owner.post(
                    "/group/invite", {"group_id": group_id, "user_ids": [m.id for m in members]}
                )
            )
        return group_id

    return make


def pending_send(
    sender: User, target: permissions.SendTarget, content: str, client_msg_id: str | None = None
) -> store.Send:
    """A text message of ``sender`` to ``target`` as ``chat.store.store_sends`` takes it."""
    message = Message(
        sender=sender,
        to_user_id=target.peer_id,
        group_id=target.group_id,
        type=Message.Type.TEXT,
        content=content,
        status=Message.Status.NORMAL,
        client_msg_id=client_msg_id,
        created_at=timezone.now(),
    )
    return store.Send(message, target)
