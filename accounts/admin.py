from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group as PermissionGroup
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts import services
from accounts.models import User

# What only a superuser may set: these grant admin access or permissions.
PRIVILEGE_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")


def may_manage(actor: Any, target: User) -> bool:
    """A superuser manages everyone. Other staff (with ``change_user``) manage API users and
    themselves, never another staff member or a superuser: resetting their password or banning
    them would take over or lock out an account with more rights."""
    if actor.is_superuser:
        return True
    return target.pk == actor.pk or not (target.is_staff or target.is_superuser)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = (
        "id",
        "username",
        "nickname",
        "email",
        "status",
        "is_staff",
        "created_at",
    )
    list_filter = ("status", "is_staff", "is_superuser", "is_active", "created_at")
    search_fields = ("username", "nickname", "email")
    ordering = ("-id",)
    readonly_fields = ("token_version", "created_at", "updated_at", "last_login", "date_joined")
    fieldsets = (
        # Django's UserAdmin sets them; the stubs type every ModelAdmin's as optional.
        *DjangoUserAdmin.fieldsets,  # type: ignore[misc]
        (_("IM profile"), {"fields": ("nickname", "avatar", "status", "token_version")}),
        (_("Timestamps"), {"fields": ("created_at", "updated_at")}),
    )
    actions = ("ban_users", "unban_users")

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> tuple[str, ...]:
        """Staff who are not superusers see the privilege fields but cannot change them, so
        ``change_user`` never grows into staff, superuser or any permission (their own
        included). A read-only field is ignored in the POST, whatever the browser sends."""
        fields = tuple(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return fields
        return fields + PRIVILEGE_FIELDS

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        """Also guards the password-change page of a user (``user_change_password``)."""
        if obj is not None and not may_manage(request.user, obj):
            return False
        return super().has_change_permission(request, obj)

    def _set_banned(self, request: HttpRequest, queryset: QuerySet[User], banned: bool) -> int:
        """Ban or unban each user this staff member may manage, with an admin log entry
        (who, when, which user) for each one whose status changes."""
        changed = skipped = 0
        for user in queryset:
            if not may_manage(request.user, user):
                skipped += 1
                continue
            was_banned = user.is_banned
            services.user_set_banned(user=user, banned=banned)
            if was_banned != banned:
                changed += 1
                self.log_change(request, user, gettext("Banned") if banned else gettext("Unbanned"))
        if skipped:
            text = ngettext(
                "Skipped %(count)d staff user: only a superuser may change them.",
                "Skipped %(count)d staff users: only a superuser may change them.",
                skipped,
            )
            self.message_user(request, text % {"count": skipped}, messages.WARNING)
        return changed

    @admin.action(
        description=_("Ban selected users (their tokens and sockets stop at once)"),
        permissions=["change"],
    )
    def ban_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        count = self._set_banned(request, queryset, banned=True)
        text = ngettext("Banned %(count)d user.", "Banned %(count)d users.", count)
        self.message_user(request, text % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Unban selected users"), permissions=["change"])
    def unban_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        count = self._set_banned(request, queryset, banned=False)
        text = ngettext("Unbanned %(count)d user.", "Unbanned %(count)d users.", count)
        self.message_user(request, text % {"count": count}, messages.SUCCESS)

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        return False  # deleting would cut conversations' history: moderation bans instead

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        """Banning through the edit form revokes tokens just like the action does (the change
        view writes the admin log entry itself)."""
        status_changed = change and "status" in form.changed_data
        super().save_model(request, obj, form, change)
        if status_changed:
            services.user_set_banned(user=obj, banned=obj.is_banned)


admin.site.unregister(PermissionGroup)


@admin.register(PermissionGroup)
class PermissionGroupAdmin(DjangoGroupAdmin):
    """Django's permission groups, changed by superusers only: staff allowed to edit the group
    they belong to could otherwise give themselves any permission."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser
