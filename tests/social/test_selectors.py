"""The small reads the chat and presence work builds on."""

import pytest

from social import selectors, services

pytestmark = pytest.mark.django_db


def test_are_friends_both_ways_and_through_a_block(alice, bob, make_user, befriend):
    carol = make_user("carol")
    assert not selectors.are_friends(alice.pk, bob.pk)
    befriend(alice, bob)
    assert selectors.are_friends(alice.pk, bob.pk) and selectors.are_friends(bob.pk, alice.pk)
    services.friend_block(user=bob, friend_id=alice.pk)
    assert selectors.are_friends(alice.pk, bob.pk) and selectors.are_friends(bob.pk, alice.pk)
    services.friend_block(user=alice, friend_id=carol.pk)
    assert not selectors.are_friends(alice.pk, carol.pk)
    services.friendship_delete(user=alice, friend_id=bob.pk)
    assert not selectors.are_friends(alice.pk, bob.pk)


def test_has_blocked_is_directional(alice, bob, befriend):
    assert not selectors.has_blocked(alice.pk, bob.pk)
    services.friend_block(user=alice, friend_id=bob.pk)
    assert selectors.has_blocked(alice.pk, bob.pk)
    assert not selectors.has_blocked(bob.pk, alice.pk)
    services.friend_unblock(user=alice, friend_id=bob.pk)
    assert not selectors.has_blocked(alice.pk, bob.pk)


def test_remarks_for_only_my_friends_with_a_remark(alice, bob, make_user, befriend):
    carol, dave, erin = make_user("carol"), make_user("dave"), make_user("erin")
    for other in (bob, carol, dave):
        befriend(alice, other)
    services.friend_set_remark(user=alice, user_id=bob.pk, remark="Bobby")
    services.friend_set_remark(user=alice, user_id=carol.pk, remark="Caz")
    services.friend_set_remark(user=bob, user_id=alice.pk, remark="Ally")
    services.friend_block(user=alice, friend_id=carol.pk)
    services.friend_block(user=alice, friend_id=erin.pk)
    ids = [bob.pk, carol.pk, dave.pk, erin.pk, 999999]
    assert selectors.remarks_for(alice.pk, ids) == {bob.pk: "Bobby", carol.pk: "Caz"}
    assert selectors.remarks_for(alice.pk, []) == {}


def test_remarks_for_is_one_query(alice, make_user, befriend, django_assert_num_queries):
    friends = [make_user() for _ in range(5)]
    for friend in friends:
        befriend(alice, friend)
        services.friend_set_remark(user=alice, user_id=friend.pk, remark=friend.username)
    with django_assert_num_queries(1):
        remarks = selectors.remarks_for(alice.pk, (friend.pk for friend in friends))
    assert remarks == {friend.pk: friend.username for friend in friends}


def test_friend_ids_include_blocked_friends_only(alice, bob, make_user, befriend):
    carol, dave = make_user("carol"), make_user("dave")
    befriend(alice, bob)
    befriend(carol, alice)
    services.friend_block(user=alice, friend_id=carol.pk)
    services.friend_block(user=alice, friend_id=dave.pk)
    assert sorted(selectors.friend_ids(alice.pk)) == sorted([bob.pk, carol.pk])
    assert selectors.friend_ids(dave.pk) == []


def test_peer_relation_agrees_with_are_friends_and_has_blocked(alice, bob, make_user, befriend):
    carol = make_user("carol")

    def agrees(user, peer) -> bool:
        expected = (
            selectors.are_friends(user.pk, peer.pk),
            selectors.has_blocked(peer.pk, user.pk),
        )
        return selectors.peer_relation(user.pk, peer.pk) == expected

    assert selectors.peer_relation(alice.pk, bob.pk) == (False, False)
    befriend(alice, bob)
    assert selectors.peer_relation(alice.pk, bob.pk) == (True, False)
    services.friend_block(user=bob, friend_id=alice.pk)
    assert selectors.peer_relation(alice.pk, bob.pk) == (True, True)
    assert selectors.peer_relation(bob.pk, alice.pk) == (True, False)
    services.friend_block(user=carol, friend_id=alice.pk)
    assert selectors.peer_relation(alice.pk, carol.pk) == (False, True)
    assert all(agrees(u, p) for u in (alice, bob, carol) for p in (alice, bob, carol) if u != p)
    assert selectors.peer_relation(alice.pk, 10**9) is None


def test_presence_audience_is_friends_without_a_block_either_way(alice, bob, make_user, befriend):
    carol, dave, erin, stranger = (make_user(n) for n in ("carol", "dave", "erin", "stranger"))
    for friend in (bob, carol, dave, erin):
        befriend(alice, friend)
    services.friend_block(user=alice, friend_id=carol.pk)  # alice blocked a friend
    services.friend_block(user=dave, friend_id=alice.pk)  # a friend blocked alice
    services.friend_block(user=alice, friend_id=stranger.pk)  # a block of a non-friend
    services.friend_block(user=bob, friend_id=erin.pk)  # someone else's block
    assert sorted(selectors.presence_audience_ids(alice.pk)) == sorted([bob.pk, erin.pk])
    # Symmetric: each blocked pair is out of both audiences.
    assert alice.pk not in selectors.presence_audience_ids(carol.pk)
    assert alice.pk not in selectors.presence_audience_ids(dave.pk)
    assert alice.pk in selectors.presence_audience_ids(bob.pk)
    services.friend_unblock(user=dave, friend_id=alice.pk)
    assert dave.pk in selectors.presence_audience_ids(alice.pk)
    services.friendship_delete(user=alice, friend_id=bob.pk)
    assert bob.pk not in selectors.presence_audience_ids(alice.pk)


def test_presence_audience_is_one_query(alice, make_user, befriend, django_assert_num_queries):
    friends = [make_user() for _ in range(4)]
    for friend in friends:
        befriend(alice, friend)
    services.friend_block(user=friends[0], friend_id=alice.pk)
    with django_assert_num_queries(1):
        audience = selectors.presence_audience_ids(alice.pk)
    assert sorted(audience) == sorted(friend.pk for friend in friends[1:])
