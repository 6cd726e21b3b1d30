import pytest

from groups.models import Group, GroupMember
from tests.groups.conftest import member_count_is_exact

pytestmark = pytest.mark.django_db

GROUP_FIELDS = {
    "id",
    "name",
    "description",
    "avatar",
    "owner_id",
    "member_count",
    "max_member_count",
    "status",
    "create_at",
    "update_at",
}
MEMBER_FIELDS = {
    "id",
    "group_id",
    "user_id",
    "role",
    "nickname",
    "avatar",
    "join_time",
    "update_at",
    "muted_until",
}


def test_create_makes_the_caller_owner(make_user, as_user):
    alice = make_user("alice")
    body = {
        "group_name": "  测试群组 ",
        "description": "这是一个测试群组",
        "avatar": "https://example.com/group-avatar.jpg",
    }
    data = as_user(alice)("post", "/group/create", body)["data"]
    group = Group.objects.get(pk=data["group_id"])
    assert set(data["group_info"]) == GROUP_FIELDS
    assert data["group_info"]["name"] == "测试群组"
    assert (data["group_info"]["owner_id"], data["group_info"]["member_count"]) == (alice.id, 1)
    assert data["group_info"]["max_member_count"] == 500 and data["group_info"]["status"] == 1
    assert GroupMember.objects.get(group=group).role == GroupMember.Role.OWNER
    assert member_count_is_exact(group)


def test_create_accepts_name_alias(make_user, as_user):
    data = as_user(make_user())("post", "/group/create", {"name": "g"})["data"]
    assert data["group_info"]["name"] == "g" and data["group_info"]["description"] == ""


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "group_name"),
        ({"group_name": "   "}, "group_name"),
        ({"group_name": "n" * 51}, "group_name"),
        ({"group_name": ["x"]}, "group_name"),
        ({"group_name": "g", "description": "d" * 501}, "description"),
        ({"group_name": "g", "avatar": "ftp://x"}, "avatar"),
    ],
)
def test_create_validates(make_user, as_user, body, field):
    payload = as_user(make_user())("post", "/group/create", body)
    assert payload["code"] == 40000 and payload["message"].startswith(f"参数错误: {field}: ")


def test_info_for_any_authenticated_user(world, as_user):
    data = as_user(world.outsider)("get", "/group/info", {"group_id": str(world.group.id)})["data"]
    assert set(data["group_info"]) == GROUP_FIELDS and data["group_info"]["member_count"] == 3


@pytest.mark.parametrize(("params", "code"), [({}, 40000), ({"group_id": "x"}, 40000)])
def test_info_validates(world, as_user, params, code):
    payload = as_user(world.outsider)("get", "/group/info", params)
    assert payload["code"] == code and "group_id" in payload["message"]


def test_info_unknown_or_dismissed_is_404(world, as_user):
    ask = as_user(world.owner)
    assert ask("get", "/group/info", {"group_id": 999999})["code"] == 40004
    world.group.status = Group.Status.DISMISSED
    world.group.save()
    assert ask("get", "/group/info", {"group_id": world.group.id})["code"] == 40004


def test_list_shows_my_normal_groups_in_join_order(world, make_user, as_user):
    second = as_user(world.member)("post", "/group/create", {"group_name": "mine"})["data"]
    gone = as_user(world.member)("post", "/group/create", {"group_name": "gone"})["data"]
    Group.objects.filter(pk=gone["group_id"]).update(status=Group.Status.DISMISSED)
    data = as_user(world.member)("get", "/group/list")["data"]
    assert [g["id"] for g in data["groups"]] == [world.group.id, second["group_id"]]
    assert data["total"] == 2 and set(data["groups"][0]) == GROUP_FIELDS
    assert as_user(world.outsider)("get", "/group/list")["data"] == {"groups": [], "total": 0}


def test_members_for_members_only(world, as_user):
    GroupMember.objects.filter(user=world.member).update(nickname="小米")
    data = as_user(world.member)("get", "/group/members", {"group_id": world.group.id})["data"]
    assert data["total"] == 3
    assert [m["user_id"] for m in data["members"]] == [
        world.owner.id,
        world.admin.id,
        world.member.id,
    ]
    assert [m["role"] for m in data["members"]] == [2, 1, 0]
    assert [m["nickname"] for m in data["members"]] == ["Olivia", "Adam", "小米"]
    assert set(data["members"][0]) == MEMBER_FIELDS
    assert data["members"][0]["muted_until"] is None
    outsider = as_user(world.outsider)("get", "/group/members", {"group_id": world.group.id})
    assert outsider["code"] == 40003
    unknown = as_user(world.member)("get", "/group/members", {"group_id": 999999})
    assert unknown["code"] == 40004


def test_member_info(world, as_user):
    ask = as_user(world.member)
    data = ask("get", "/group/member_info", {"group_id": world.group.id, "user_id": world.owner.id})
    assert data["data"]["member_info"]["member_info"] == {
        "group_id": world.group.id,
        "user_id": world.owner.id,
        "role": 2,
        "nickname": "Olivia",
        "join_time": data["data"]["member_info"]["member_info"]["join_time"],
        "muted_until": None,
    }
    assert data["data"]["member_info"]["user_info"] == {
        "id": world.owner.id,
        "username": "owner",
        "nickname": "Olivia",
        "avatar": "",
    }
    assert isinstance(data["data"]["member_info"]["member_info"]["join_time"], int)
    params = {"group_id": world.group.id, "user_id": world.outsider.id}
    assert ask("get", "/group/member_info", params)["code"] == 40004
    params = {"group_id": world.group.id, "user_id": world.owner.id}
    assert as_user(world.outsider)("get", "/group/member_info", params)["code"] == 40003
    assert ask("get", "/group/member_info", {"group_id": world.group.id})["code"] == 40000


def test_update_own_member_info_sets_and_clears_the_in_group_nickname(world, as_user):
    ask = as_user(world.member)
    body = {"group_id": world.group.id, "nickname": " 新的群内昵称 "}
    assert ask("put", "/group/update/member_info", body)["code"] == 20000
    params = {"group_id": world.group.id, "user_id": world.member.id}
    info = ask("get", "/group/member_info", params)["data"]["member_info"]["member_info"]
    assert info["nickname"] == "新的群内昵称"
    assert (
        ask("put", "/group/update/member_info", {"group_id": world.group.id, "nickname": ""})[
            "code"
        ]
        == 20000
    )
    info = ask("get", "/group/member_info", params)["data"]["member_info"]["member_info"]
    assert info["nickname"] == "Mia"
    too_long = {"group_id": world.group.id, "nickname": "n" * 51}
    assert ask("put", "/group/update/member_info", too_long)["code"] == 40000
    outsider = as_user(world.outsider)("put", "/group/update/member_info", body)
    assert outsider["code"] == 40003


def test_update_info_is_partial(world, as_user):
    body = {"group_id": str(world.group.id), "description": "new"}
    data = as_user(world.admin)("put", "/group/update/info", body)["data"]
    assert (data["group_info"]["name"], data["group_info"]["description"]) == ("Team", "new")
    body = {"group_id": world.group.id, "name": "Renamed", "avatar": "https://e.com/a.png"}
    as_user(world.owner)("put", "/group/update/info", body)
    world.group.refresh_from_db()
    assert (world.group.name, world.group.description, world.group.avatar) == (
        "Renamed",
        "new",
        "https://e.com/a.png",
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [({"name": ""}, "name"), ({"name": "n" * 51}, "name"), ({"avatar": "x"}, "avatar")],
)
def test_update_info_validates(world, as_user, body, field):
    payload = as_user(world.owner)(
        "put", "/group/update/info", {"group_id": world.group.id, **body}
    )
    assert payload["code"] == 40000 and payload["message"].startswith(f"参数错误: {field}: ")


def test_wrong_method_is_405(world, client_for):
    response = client_for(world.owner).get("/group/kick")
    assert response.status_code == 405 and response.json()["code"] == 40000


def test_english_messages(world, client_for):
    response = client_for(world.outsider).get(
        "/group/members", {"group_id": world.group.id}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.json()["message"] == "You are not a member of this group"
    response = client_for(world.outsider).get("/group/members", {"group_id": world.group.id})
    assert response.json()["message"] == "你不是该群成员"
