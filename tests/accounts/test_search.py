import pytest

from accounts.models import User
from groups.models import Group

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


@pytest.fixture
def world(make_user):
    me = make_user("searcher", nickname="me")
    a = make_user("tom_1", nickname="Tommy")
    b = make_user("jerry", nickname="TOMCAT")
    make_user("tomato", nickname="banned one", status=User.Status.BANNED)
    make_user("alice", nickname="nobody")
    g1 = Group.objects.create(name="Tom fans", owner=a, member_count=1)
    Group.objects.create(name="tom gone", owner=a, status=Group.Status.DISMISSED)
    g3 = Group.objects.create(name="atoms", owner=b, member_count=1)
    return me, a, b, g1, g3


def test_search_matches_username_nickname_and_group_name_case_insensitively(world, client_for):
    me, a, b, g1, g3 = world
    data = client_for(me).get("/search", {"keyword": "TOM"}).json()["data"]
    assert [u["id"] for u in data["users"]] == [b.id, a.id]  # newest first, banned excluded
    assert [g["id"] for g in data["groups"]] == [g3.id, g1.id]  # dismissed excluded
    assert (data["totalUsers"], data["totalGroups"]) == (2, 2)
    assert set(data["groups"][0]) == GROUP_FIELDS


def test_search_pages_but_totals_count_all(world, make_user, client_for):
    me = world[0]
    for n in range(25):
        make_user(f"zed{n}")
    data = client_for(me).get("/search", {"keyword": "zed"}).json()["data"]
    assert len(data["users"]) == 20 and data["totalUsers"] == 25
    page2 = client_for(me).get("/search", {"keyword": "zed", "page": 2}).json()["data"]
    assert len(page2["users"]) == 5


def test_search_keyword_wildcards_are_literal(world, make_user, client_for):
    make_user("a_b")
    data = client_for(world[0]).get("/search", {"keyword": "%"}).json()["data"]
    assert data["totalUsers"] == 0


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"keyword": ""},
        {"keyword": "   "},
        {"keyword": "k" * 51},
        {"keyword": "x", "page_size": 101},
        {"keyword": "x", "page": 0},
    ],
)
def test_search_parameter_limits(world, client_for, params):
    response = client_for(world[0]).get("/search", params)
    assert response.json()["code"] == 40000


def test_search_needs_a_token(api_client):
    assert api_client.get("/search", {"keyword": "x"}).json()["code"] == 40001
