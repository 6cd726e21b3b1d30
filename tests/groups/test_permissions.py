"""CONTRACT 5's permission table: every allowed and refused action per role."""

import pytest

from groups import services
from groups.models import Group, GroupApplication, GroupMember
from tests.groups.conftest import World, member_count_is_exact

pytestmark = pytest.mark.django_db


def gid(w: World) -> dict:
    return {"group_id": w.group.id}


def app_id(w: World) -> dict:
    application = services.group_join_apply(user=w.outsider, group_id=w.group.id, reason="hi")
    return {"application_id": application.id, "approve": True}


CASES = [
    # (actor, method, path, body, code)
    ("owner", "put", "/group/update/info", lambda w: {**gid(w), "name": "x"}, 20000),
    ("admin", "put", "/group/update/info", lambda w: {**gid(w), "name": "x"}, 20000),
    ("member", "put", "/group/update/info", lambda w: {**gid(w), "name": "x"}, 40003),
    ("outsider", "put", "/group/update/info", lambda w: {**gid(w), "name": "x"}, 40003),
    # set role: owner only, target a member other than the owner
    (
        "owner",
        "post",
        "/group/set/role",
        lambda w: {**gid(w), "user_id": w.member.id, "role": 1},
        20000,
    ),
    (
        "owner",
        "post",
        "/group/set/role",
        lambda w: {**gid(w), "user_id": w.admin.id, "role": 0},
        20000,
    ),
    (
        "owner",
        "post",
        "/group/set/role",
        lambda w: {**gid(w), "user_id": w.owner.id, "role": 0},
        40003,
    ),
    (
        "owner",
        "post",
        "/group/set/role",
        lambda w: {**gid(w), "user_id": w.outsider.id, "role": 1},
        40004,
    ),
    (
        "owner",
        "post",
        "/group/set/role",
        lambda w: {**gid(w), "user_id": w.member.id, "role": 2},
        40000,
    ),
    (
        "owner",
        "post",
        "/group/set/role",
        lambda w: {**gid(w), "user_id": w.member.id, "role": "1"},
        20000,
    ),
    (
        "admin",
        "post",
        "/group/set/role",
        lambda w: {**gid(w), "user_id": w.member.id, "role": 1},
        40003,
    ),
    (
        "member",
        "post",
        "/group/set/role",
        lambda w: {**gid(w), "user_id": w.member.id, "role": 1},
        40003,
    ),
    (
        "outsider",
        "post",
        "/group/set/role",
        lambda w: {**gid(w), "user_id": w.member.id, "role": 1},
        40003,
    ),
    # mute: owner any member, admin plain members only
    (
        "owner",
        "post",
        "/group/mute/member",
        lambda w: {**gid(w), "user_id": w.member.id, "duration": 60},
        20000,
    ),
    (
        "owner",
        "post",
        "/group/mute/member",
        lambda w: {**gid(w), "user_id": w.admin.id, "duration": 60},
        20000,
    ),
    (
        "owner",
        "post",
        "/group/mute/member",
        lambda w: {**gid(w), "user_id": w.owner.id, "duration": 60},
        40000,
    ),
    (
        "owner",
        "post",
        "/group/mute/member",
        lambda w: {**gid(w), "user_id": w.outsider.id, "duration": 60},
        40004,
    ),
    (
        "owner",
        "post",
        "/group/mute/member",
        lambda w: {**gid(w), "user_id": w.member.id, "duration": 2592001},
        40000,
    ),
    (
        "owner",
        "post",
        "/group/mute/member",
        lambda w: {**gid(w), "user_id": w.member.id, "duration": -1},
        40000,
    ),
    (
        "owner",
        "post",
        "/group/mute/member",
        lambda w: {**gid(w), "user_id": w.member.id, "duration": 2592000},
        20000,
    ),
    (
        "owner",
        "post",
        "/group/mute/member",
        lambda w: {**gid(w), "user_id": w.member.id, "duration": 0},
        20000,
    ),
    (
        "admin",
        "post",
        "/group/mute/member",
        lambda w: {**gid(w), "user_id": w.member.id, "duration": 60},
        20000,
    ),
    (
        "admin",
        "post",
        "/group/mute/member",
        lambda w: {**gid(w), "user_id": w.owner.id, "duration": 60},
        40003,
    ),
    (
        "admin",
        "post",
        "/group/mute/member",
        lambda w: {**gid(w), "user_id": w.admin.id, "duration": 60},
        40000,
    ),
    (
        "member",
        "post",
        "/group/mute/member",
        lambda w: {**gid(w), "user_id": w.member.id, "duration": 60},
        40003,
    ),
    (
        "outsider",
        "post",
        "/group/mute/member",
        lambda w: {**gid(w), "user_id": w.member.id, "duration": 60},
        40003,
    ),
    # invite: any member
    ("owner", "post", "/group/invite", lambda w: {**gid(w), "user_ids": [w.outsider.id]}, 20000),
    ("admin", "post", "/group/invite", lambda w: {**gid(w), "user_ids": [w.outsider.id]}, 20000),
    ("member", "post", "/group/invite", lambda w: {**gid(w), "user_ids": [w.outsider.id]}, 20000),
    ("outsider", "post", "/group/invite", lambda w: {**gid(w), "user_ids": [w.outsider.id]}, 40003),
    ("member", "post", "/group/invite", lambda w: {**gid(w), "user_ids": []}, 40000),
    ("member", "post", "/group/invite", lambda w: {**gid(w), "user_ids": ["a"]}, 40000),
    # join: non-members only
    ("outsider", "post", "/group/join", lambda w: {**gid(w), "reason": "我想加入这个群组"}, 20000),
    ("member", "post", "/group/join", gid, 40009),
    ("owner", "post", "/group/join", gid, 40009),
    # leave: any member but the owner
    ("member", "post", "/group/leave", gid, 20000),
    ("admin", "post", "/group/leave", gid, 20000),
    ("owner", "post", "/group/leave", gid, 40000),
    ("outsider", "post", "/group/leave", gid, 40003),
    # kick: owner any member, admin plain members only
    ("owner", "post", "/group/kick", lambda w: {**gid(w), "user_id": w.member.id}, 20000),
    ("owner", "post", "/group/kick", lambda w: {**gid(w), "user_id": w.admin.id}, 20000),
    ("owner", "post", "/group/kick", lambda w: {**gid(w), "user_id": w.owner.id}, 40000),
    ("owner", "post", "/group/kick", lambda w: {**gid(w), "user_id": w.outsider.id}, 40004),
    ("admin", "post", "/group/kick", lambda w: {**gid(w), "user_id": w.member.id}, 20000),
    ("admin", "post", "/group/kick", lambda w: {**gid(w), "user_id": w.owner.id}, 40003),
    ("admin", "post", "/group/kick", lambda w: {**gid(w), "user_id": w.admin.id}, 40000),
    ("member", "post", "/group/kick", lambda w: {**gid(w), "user_id": w.admin.id}, 40003),
    ("outsider", "post", "/group/kick", lambda w: {**gid(w), "user_id": w.member.id}, 40003),
    # transfer: owner only, to a member
    ("owner", "post", "/group/transfer", lambda w: {**gid(w), "new_owner_id": w.member.id}, 20000),
    ("owner", "post", "/group/transfer", lambda w: {**gid(w), "new_owner_id": w.owner.id}, 40000),
    (
        "owner",
        "post",
        "/group/transfer",
        lambda w: {**gid(w), "new_owner_id": w.outsider.id},
        40004,
    ),
    ("admin", "post", "/group/transfer", lambda w: {**gid(w), "new_owner_id": w.admin.id}, 40003),
    ("member", "post", "/group/transfer", lambda w: {**gid(w), "new_owner_id": w.member.id}, 40003),
    (
        "outsider",
        "post",
        "/group/transfer",
        lambda w: {**gid(w), "new_owner_id": w.member.id},
        40003,
    ),
    # dismiss: owner only
    ("owner", "post", "/group/dismiss", gid, 20000),
    ("admin", "post", "/group/dismiss", gid, 40003),
    ("member", "post", "/group/dismiss", gid, 40003),
    ("outsider", "post", "/group/dismiss", gid, 40003),
    # handle application: owner/admin of that group; others may not see it
    ("owner", "post", "/group/request/handle", app_id, 20000),
    ("admin", "post", "/group/request/handle", app_id, 20000),
    ("member", "post", "/group/request/handle", app_id, 40004),
    ("outsider", "post", "/group/request/handle", app_id, 40004),
    # reads
    ("member", "get", "/group/members", gid, 20000),
    ("outsider", "get", "/group/members", gid, 40003),
    ("outsider", "get", "/group/info", gid, 20000),
    ("member", "get", "/group/member_info", lambda w: {**gid(w), "user_id": w.owner.id}, 20000),
    ("outsider", "get", "/group/member_info", lambda w: {**gid(w), "user_id": w.owner.id}, 40003),
    ("member", "put", "/group/update/member_info", lambda w: {**gid(w), "nickname": "n"}, 20000),
    ("outsider", "put", "/group/update/member_info", lambda w: {**gid(w), "nickname": "n"}, 40003),
]


@pytest.mark.parametrize(
    ("actor", "method", "path", "body", "code"),
    CASES,
    ids=[f"{c[0]}-{c[2]}-{i}" for i, c in enumerate(CASES)],
)
def test_permission_table(world, as_user, actor, method, path, body, code):
    payload = as_user(world.by_role(actor))(method, path, body(world))
    assert payload["code"] == code, payload
    if code != 20000:
        assert payload["message"]
    assert member_count_is_exact(world.group)


DISMISSED_CASES = [
    ("owner", "put", "/group/update/info", lambda w: {**gid(w), "name": "x"}),
    ("owner", "post", "/group/set/role", lambda w: {**gid(w), "user_id": w.member.id, "role": 1}),
    (
        "owner",
        "post",
        "/group/mute/member",
        lambda w: {**gid(w), "user_id": w.member.id, "duration": 9},
    ),
    ("member", "post", "/group/invite", lambda w: {**gid(w), "user_ids": [w.outsider.id]}),
    ("outsider", "post", "/group/join", gid),
    ("member", "post", "/group/leave", gid),
    ("owner", "post", "/group/kick", lambda w: {**gid(w), "user_id": w.member.id}),
    ("owner", "post", "/group/transfer", lambda w: {**gid(w), "new_owner_id": w.member.id}),
    ("owner", "post", "/group/dismiss", gid),
    ("member", "get", "/group/members", gid),
    ("member", "get", "/group/info", gid),
    ("member", "get", "/group/member_info", lambda w: {**gid(w), "user_id": w.owner.id}),
    ("member", "put", "/group/update/member_info", lambda w: {**gid(w), "nickname": "n"}),
]


@pytest.mark.parametrize(("actor", "method", "path", "body"), DISMISSED_CASES)
def test_every_action_on_a_dismissed_group_is_404(world, as_user, actor, method, path, body):
    request_body = body(world)
    services.group_dismiss(user=world.owner, group_id=world.group.id)
    payload = as_user(world.by_role(actor))(method, path, request_body)
    assert payload["code"] == 40004, payload


def test_handling_an_application_of_a_dismissed_group_is_404(world, as_user):
    body = app_id(world)
    services.group_dismiss(user=world.owner, group_id=world.group.id)
    assert as_user(world.owner)("post", "/group/request/handle", body)["code"] == 40004
    assert GroupApplication.objects.get().status == GroupApplication.Status.PENDING


def test_dismissed_group_vanishes_from_list_and_search(world, as_user):
    assert as_user(world.member)("post", "/group/dismiss", gid(world))["code"] == 40003
    assert as_user(world.owner)("post", "/group/dismiss", gid(world))["code"] == 20000
    world.group.refresh_from_db()
    assert world.group.status == Group.Status.DISMISSED
    assert as_user(world.member)("get", "/group/list")["data"]["total"] == 0
    search = as_user(world.member)("get", "/search", {"keyword": "Team"})["data"]
    assert search["totalGroups"] == 0
    assert GroupMember.objects.filter(group=world.group).count() == 3  # kept for history
