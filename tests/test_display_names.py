"""Names other users see are stored without bidi controls, zero-width spaces or control
characters (docs/security.md): nicknames, group names, group nicknames and remarks."""

import pytest

from accounts.models import User
from imserver.api.fields import clean_display_name

pytestmark = pytest.mark.django_db

SPOOF = "\u202egnp.exe\u200b\u2066x\u2069\u0007"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("\u202egnp.exe", "gnp.exe"),
        ("a\u200bb\ufeffc\u2060d", "abcd"),
        ("left\u200e\u200f\u061cright", "leftright"),
        ("line\u2028break\tand  spaces ", "line break and spaces"),
        ("👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧"),  # ZWJ in an emoji sequence stays
        ("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",) * 2,  # ZWNJ in Persian stays
        ("e\u0301", "é"),  # NFC
    ],
)
def test_clean_display_name(raw, clean):
    assert clean_display_name(raw) == clean


def test_nickname_on_register_and_update(api_client, make_user, client_for):
    body = {"username": "mallory", "password": "123456", "email": "m@e.com", "nickname": SPOOF}
    assert api_client.post("/register", body, format="json").json()["code"] == 20000
    assert User.objects.get(username="mallory").nickname == "gnp.exex"
    user = make_user("alice")
    client = client_for(user)
    answer = client.put("/user/update/info", {"nickname": "\u202eAlice\u200b"}, format="json")
    assert answer.json()["code"] == 20000
    assert client.get("/user/profile").json()["data"]["nickname"] == "Alice"


def test_a_name_of_invisible_characters_only_is_blank(make_user, client_for):
    client = client_for(make_user("alice"))
    answer = client.post("/group/create", {"group_name": "\u200b\u202e\u2066"}, format="json")
    assert answer.json()["code"] == 40000 and "group_name" in answer.json()["message"]


def test_group_name_group_nickname_and_remark(make_user, client_for):
    alice, bob = make_user("alice"), make_user("bob")
    alice_client, bob_client = client_for(alice), client_for(bob)
    created = alice_client.post("/group/create", {"group_name": SPOOF}, format="json").json()
    group_id = created["data"]["group_id"]
    assert created["data"]["group_info"]["name"] == "gnp.exex"
    renamed = alice_client.put(
        "/group/update/member_info", {"group_id": group_id, "nickname": "\u202eboss"}, format="json"
    )
    assert renamed.json()["code"] == 20000, renamed.json()
    members = alice_client.get("/group/members", {"group_id": group_id}).json()["data"]
    assert "boss" in str(members) and "\u202e" not in str(members)

    request = alice_client.post("/friend/request/send", {"to_user_id": bob.pk}, format="json")
    bob_client.post(
        "/friend/request/handle",
        {"request_id": request.json()["data"]["request_id"], "action": 2},
        format="json",
    )
    answer = alice_client.put(
        "/friend/remark", {"user_id": bob.pk, "remark": "b\u200bob\u202e"}, format="json"
    )
    assert answer.json()["code"] == 20000, answer.json()
    friends = alice_client.get("/friend/list").json()["data"]["friends"]
    assert [friend["remark"] for friend in friends] == ["bob"]
