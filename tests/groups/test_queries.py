"""List endpoints run a constant number of queries: the same bound with few and many items."""

import pytest

from groups import services
from groups.models import GroupMember

pytestmark = pytest.mark.django_db


def grow(world, make_user, n: int) -> None:
    """n more members (with notifications for the owner), groups and applications."""
    users = [make_user() for _ in range(n)]
    services.group_invite(user=world.owner, group_id=world.group.id, user_ids=[u.id for u in users])
    for user in users:
        GroupMember.objects.filter(user=user).update(nickname=f"nick{user.id}")
        services.group_leave(user=user, group_id=world.group.id)  # type 5 to the owner
        services.group_join_apply(user=user, group_id=world.group.id)  # type 1, 6.4 rows
        services.group_invite(user=world.owner, group_id=world.group.id, user_ids=[user.id])
        services.group_join_apply(user=world.outsider, group_id=world.group.id)
        extra = services.group_create(owner=world.member, name=f"g{user.id}")
        services.group_join_apply(user=user, group_id=extra.id)
    assert GroupMember.objects.filter(group=world.group).count() == 3 + n


# (actor, path, query, bound): the bound counts the token's user lookup and, for the listings
# that mark what they showed, the transaction's savepoint and release.
ENDPOINTS = [
    ("member", "/group/list", lambda w: {}, 2),
    ("member", "/group/members", lambda w: {"group_id": w.group.id}, 3),
    ("member", "/group/info", lambda w: {"group_id": w.group.id}, 2),
    ("member", "/group/member_info", lambda w: {"group_id": w.group.id, "user_id": w.owner.id}, 3),
    ("owner", "/notification/group/notifications", lambda w: {}, 6),
    ("member", "/notification/request/group", lambda w: {}, 7),
    ("member", "/notification/request/group/unread-count", lambda w: {}, 2),
]


@pytest.mark.parametrize(("actor", "path", "params", "bound"), ENDPOINTS)
@pytest.mark.parametrize("extra", [1, 12])
def test_constant_queries(
    world, make_user, client_for, django_assert_max_num_queries, actor, path, params, bound, extra
):
    grow(world, make_user, extra)
    client = client_for(world.by_role(actor))
    with django_assert_max_num_queries(bound):
        response = client.get(path, params(world))
    assert response.json()["code"] == 20000
    data = response.json()["data"]
    sizes = [len(value) for value in data.values() if isinstance(value, list)]
    if path != "/group/list" and sizes:
        assert sizes[0] >= extra  # the listing really grew
