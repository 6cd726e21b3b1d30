"""A group with one user of every role, and a small client wrapper for the group endpoints."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from groups import services
from groups.models import Group, GroupMember


@dataclass
class World:
    owner: User
    admin: User
    member: User
    outsider: User
    group: Group

    def by_role(self, name: str) -> User:
        return getattr(self, name)


def call(client: APIClient, method: str, path: str, body: dict[str, Any] | None = None) -> dict:
    """The decoded envelope of one request (GET bodies go to the query string)."""
    if method == "get":
        response = client.get(path, body or {})
    else:
        response = getattr(client, method)(path, body or {}, format="json")
    payload = response.json()
    expected_status = {20000: 200, 40000: 400, 40003: 403, 40004: 404, 40009: 409}
    assert response.status_code == expected_status.get(payload["code"], response.status_code)
    return payload


@pytest.fixture
def world(make_user) -> World:
    owner = make_user("owner", nickname="Olivia")
    admin = make_user("admin", nickname="Adam")
    member = make_user("member", nickname="Mia")
    outsider = make_user("outsider", nickname="Otto")
    group = services.group_create(owner=owner, name="Team", description="d")
    GroupMember.objects.create(group=group, user=admin, role=GroupMember.Role.ADMIN)
    GroupMember.objects.create(group=group, user=member)
    Group.objects.filter(pk=group.pk).update(member_count=3)
    group.refresh_from_db()
    return World(owner, admin, member, outsider, group)


@pytest.fixture
def as_user(client_for) -> Callable[[User], Callable[..., dict]]:
    """``as_user(u)("post", "/group/kick", {...})`` -> the envelope."""

    def bind(user: User) -> Callable[..., dict]:
        client = client_for(user)
        return lambda method, path, body=None: call(client, method, path, body)

    return bind


def member_count_is_exact(group: Group) -> bool:
    group.refresh_from_db()
    return group.member_count == GroupMember.objects.filter(group=group).count()
