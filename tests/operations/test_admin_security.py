"""The admin's own rules, driven through its pages with the Django test client (issue 20):
a throttled login, password rules for admin-set passwords, banned staff shut out, no privilege
escalation through ``change_user``, and an admin log entry for each moderation action."""

import builtins
import getpass
import io

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group as PermissionGroup
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.test import Client

from accounts.models import User

pytestmark = pytest.mark.django_db

STRONG = "violet-harbour-lantern-42"
LOGIN = "/admin/login/"


def login(username: str, password: str, ip: str = "203.0.113.1") -> tuple[Client, object]:
    client = Client(REMOTE_ADDR=ip)
    response = client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"})
    return client, response


@pytest.fixture
def superuser(make_user) -> User:
    return make_user("root", password=STRONG, is_staff=True, is_superuser=True)


# --- login throttling -------------------------------------------------------------------------


def test_failed_logins_per_address_get_429_on_the_page(settings, superuser):
    settings.IM_ADMIN_LOGIN_FAILURES_PER_IP = 3
    settings.IM_ADMIN_LOGIN_FAILURES_PER_USERNAME = 100
    for attempt in range(3):
        _, response = login(f"guess{attempt}", "wrong-password")
        assert response.status_code == 200  # the form again, with the usual error
    client, response = login("root", STRONG)  # even the right password is not checked now
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert "登录失败次数过多" in response.content.decode()  # the error shown on the page
    assert "_auth_user_id" not in client.session
    # Another address is not affected.
    client, response = login("root", STRONG, ip="203.0.113.2")
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_failed_logins_per_username_any_case_and_any_address(settings, superuser):
    settings.IM_ADMIN_LOGIN_FAILURES_PER_IP = 100
    settings.IM_ADMIN_LOGIN_FAILURES_PER_USERNAME = 3
    for attempt, name in enumerate(["root", "ROOT", " Root"]):
        assert login(name, "wrong-password", ip=f"198.51.100.{attempt}")[1].status_code == 200
    _, response = login("root", STRONG, ip="198.51.100.99")
    assert response.status_code == 429
    # Another staff name from the same addresses still logs in.
    User.objects.create_superuser("other", "other@example.com", STRONG)
    assert login("other", STRONG, ip="198.51.100.0")[1].status_code == 302


def test_a_right_password_of_a_non_staff_user_counts_as_a_failure(settings, make_user):
    settings.IM_ADMIN_LOGIN_FAILURES_PER_IP = 2
    make_user("api-user", password=STRONG)
    for _ in range(2):
        assert login("api-user", STRONG)[1].status_code == 200
    assert login("api-user", STRONG)[1].status_code == 429


def test_im_throttle_0_turns_the_admin_limit_off(settings, superuser):
    settings.IM_THROTTLE = False
    settings.IM_ADMIN_LOGIN_FAILURES_PER_IP = 1
    settings.IM_ADMIN_LOGIN_FAILURES_PER_USERNAME = 1
    for _ in range(3):
        assert login("root", "wrong-password")[1].status_code == 200
    assert login("root", STRONG)[1].status_code == 302


# --- banned staff -----------------------------------------------------------------------------


def test_a_banned_staff_user_cannot_log_in(make_user):
    make_user("mod", password=STRONG, is_staff=True, is_superuser=True, status=User.Status.BANNED)
    client, response = login("mod", STRONG)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_a_banned_staff_user_loses_an_open_admin_session(staff_client):
    assert staff_client.get("/admin/").status_code == 200
    User.objects.filter(username="staff").update(status=User.Status.BANNED)
    response = staff_client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert staff_client.get("/admin/accounts/user/").status_code == 302


def test_banning_through_the_admin_shuts_a_staff_member_out(staff_client, make_user):
    moderator = make_user("mod", password=STRONG, is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(moderator)
    assert client.get("/admin/").status_code == 200
    staff_client.post(
        "/admin/accounts/user/", {"action": "ban_users", "_selected_action": [moderator.pk]}
    )
    assert client.get("/admin/").status_code == 302


# --- password rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("Ab1-short", "password_too_short"),  # 9 characters
        ("8273649105527", "password_entirely_numeric"),
        ("password1234", "password_too_common"),
        ("newcomer-2024", "password_too_similar"),  # to the username
    ],
)
def test_the_admin_add_user_form_applies_the_password_rules(staff_client, password, code):
    response = staff_client.post(
        "/admin/accounts/user/add/",
        {
            "username": "newcomer",
            "password1": password,
            "password2": password,
            "usable_password": "true",
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors.as_data()
    assert [error.code for error in errors["password2"]] == [code]
    assert not User.objects.filter(username="newcomer").exists()

    response = staff_client.post(
        "/admin/accounts/user/add/",
        {
            "username": "newcomer",
            "password1": STRONG,
            "password2": STRONG,
            "usable_password": "true",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(username="newcomer").check_password(STRONG)


def test_the_admin_password_change_forms_apply_the_password_rules(staff_client, make_user):
    user = make_user("bob")
    url = f"/admin/accounts/user/{user.pk}/password/"
    weak = {"password1": "bob12345", "password2": "bob12345", "usable_password": "true"}
    assert staff_client.post(url, weak).status_code == 200
    user.refresh_from_db()
    assert not user.check_password("bob12345")
    strong = {"password1": STRONG, "password2": STRONG, "usable_password": "true"}
    assert staff_client.post(url, strong).status_code == 302
    user.refresh_from_db()
    assert user.check_password(STRONG)

    # A staff member's own password (/admin/password_change/).
    own = staff_client.post(
        "/admin/password_change/",
        {"old_password": "secret123", "new_password1": "123456789", "new_password2": "123456789"},
    )
    assert own.status_code == 200 and "密码只包含数字" in own.content.decode()


def test_changepassword_applies_the_password_rules(make_user, monkeypatch):
    user = make_user("bob")
    answers = iter(["1234567890", "1234567890"] * 3)
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(answers))
    with pytest.raises(CommandError):
        call_command("changepassword", "bob", stdout=io.StringIO(), stderr=io.StringIO())
    user.refresh_from_db()
    assert not user.check_password("1234567890")

    answers = iter(["1234567890", "1234567890", STRONG, STRONG])
    stderr = io.StringIO()
    call_command("changepassword", "bob", stdout=io.StringIO(), stderr=stderr)
    assert "numeric" in stderr.getvalue() or "数字" in stderr.getvalue()
    user.refresh_from_db()
    assert user.check_password(STRONG)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_createsuperuser_applies_the_password_rules(monkeypatch):
    answers = iter(["1234567890", "1234567890", STRONG, STRONG])
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(answers))
    bypass_questions = []
    monkeypatch.setattr(builtins, "input", lambda prompt="": bypass_questions.append(prompt) or "n")
    stderr = io.StringIO()
    call_command(
        "createsuperuser",
        interactive=True,
        username="root",
        email="root@example.com",
        stdin=_Terminal(),
        stdout=io.StringIO(),
        stderr=stderr,
    )
    assert bypass_questions, "the numeric password was refused first"
    assert User.objects.get(username="root").check_password(STRONG)


def test_api_passwords_keep_the_contract_rule_only(api_client, client_for, make_user):
    """CONTRACT 3: 6-50 characters, nothing else, for registration and the API's change."""
    body = {"username": "apiuser", "password": "123456", "email": "a@example.com"}
    assert api_client.post("/register", body, format="json").json()["code"] == 20000
    user = User.objects.get(username="apiuser")
    response = client_for(user).put(
        "/user/update/password",
        {"old_password": "123456", "new_password": "apiuser"},
        format="json",
    )
    assert response.json()["code"] == 20000


# --- privilege escalation ---------------------------------------------------------------------


@pytest.fixture
def moderator(make_user) -> User:
    """Staff with every user permission, not a superuser."""
    user = make_user("mod", password=STRONG, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="accounts"))
    return user


@pytest.fixture
def moderator_client(moderator) -> Client:
    client = Client()
    client.force_login(moderator)
    return client


def change_form_data(client: Client, user: User, **changes: object) -> dict:
    """What the change page's form would post back, with ``changes``."""
    form = client.get(f"/admin/accounts/user/{user.pk}/change/").context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        if field.disabled:
            continue
        value = form.initial.get(name)
        if value is None:
            continue
        if isinstance(value, bool):
            if value:
                data[name] = "on"
            continue
        data[name] = value
    data.update(changes)
    return data


def test_staff_with_change_user_cannot_grant_superuser_staff_or_permissions(
    moderator, moderator_client, make_user
):
    target = make_user("carol")
    every_permission = list(Permission.objects.values_list("pk", flat=True))
    group = PermissionGroup.objects.create(name="everything")
    group.permissions.set(every_permission)
    for user in (moderator, target):
        url = f"/admin/accounts/user/{user.pk}/change/"
        data = change_form_data(
            moderator_client,
            user,
            is_superuser="on",
            is_staff="on",
            user_permissions=every_permission,
            groups=[group.pk],
            nickname="renamed",
        )
        response = moderator_client.post(url, data)
        assert response.status_code == 302, response.context["adminform"].form.errors
        user.refresh_from_db()
        assert user.nickname == "renamed"  # the edit itself went through
        assert not user.is_superuser
        assert user.is_staff == (user == moderator)
        assert not user.user_permissions.exclude(content_type__app_label="accounts").exists()
        assert not user.groups.exists()


def test_staff_with_change_user_cannot_touch_superusers_or_other_staff(
    moderator_client, superuser, make_user
):
    other_staff = make_user("helper", is_staff=True)
    for target in (superuser, other_staff):
        data = change_form_data(moderator_client, target, nickname="owned")
        assert (
            moderator_client.post(f"/admin/accounts/user/{target.pk}/change/", data).status_code
            == 403
        )
        strong = {"password1": STRONG + "x", "password2": STRONG + "x", "usable_password": "true"}
        response = moderator_client.post(f"/admin/accounts/user/{target.pk}/password/", strong)
        assert response.status_code == 403
        moderator_client.post(
            "/admin/accounts/user/", {"action": "ban_users", "_selected_action": [target.pk]}
        )
        target.refresh_from_db()
        assert target.nickname != "owned" and not target.is_banned
        assert not target.check_password(STRONG + "x")


def test_only_superusers_change_permission_groups(moderator, moderator_client, staff_client):
    moderator.user_permissions.add(*Permission.objects.filter(content_type__app_label="auth"))
    group = PermissionGroup.objects.create(name="mods")
    moderator.groups.add(group)
    url = f"/admin/auth/group/{group.pk}/change/"
    assert moderator_client.post(url, {"name": "mods", "permissions": []}).status_code == 403
    assert moderator_client.post("/admin/auth/group/add/", {"name": "x"}).status_code == 403
    assert staff_client.get(url).status_code == 200


# --- admin log entries ------------------------------------------------------------------------


def test_ban_and_unban_leave_an_admin_log_entry_naming_who_acted(staff_client, make_user):
    target = make_user("carol")
    staff = User.objects.get(username="staff")
    for action, banned in (("ban_users", True), ("unban_users", False)):
        response = staff_client.post(
            "/admin/accounts/user/", {"action": action, "_selected_action": [target.pk]}
        )
        assert response.status_code == 302
        target.refresh_from_db()
        assert target.is_banned == banned
    entries = LogEntry.objects.filter(object_id=str(target.pk)).order_by("pk")
    assert [(e.user_id, e.action_flag) for e in entries] == [(staff.pk, CHANGE)] * 2
    assert [e.change_message for e in entries] == ["封禁", "解除封禁"]
    # Banning a banned user again changes nothing and logs nothing.
    staff_client.post(
        "/admin/accounts/user/", {"action": "unban_users", "_selected_action": [target.pk]}
    )
    assert entries.count() == 2
