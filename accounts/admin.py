from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts import services
from accounts.models import User


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
        *DjangoUserAdmin.fieldsets,
        (_("IM profile"), {"fields": ("nickname", "avatar", "status", "token_version")}),
        (_("Timestamps"), {"fields": ("created_at", "updated_at")}),
    )
    actions = ("ban_users", "unban_users")

    @admin.action(
        description=_("Ban selected users (their tokens and sockets stop at once)"),
        permissions=["change"],
    )
    def ban_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        users = list(queryset)
        for user in users:
            services.user_set_banned(user=user, banned=True)
        text = ngettext("Banned %(count)d user.", "Banned %(count)d users.", len(users))
        self.message_user(request, text % {"count": len(users)}, messages.SUCCESS)

    @admin.action(description=_("Unban selected users"), permissions=["change"])
    def unban_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        users = list(queryset)
        for user in users:
            services.user_set_banned(user=user, banned=False)
        text = ngettext("Unbanned %(count)d user.", "Unbanned %(count)d users.", len(users))
        self.message_user(request, text % {"count": len(users)}, messages.SUCCESS)

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        return False  # deleting would cut conversations' history: moderation bans instead

    def save_model(self, request: HttpRequest, obj: User, form, change: bool) -> None:
        """Banning through the edit form revokes tokens just like the action does."""
        status_changed = change and "status" in form.changed_data
        super().save_model(request, obj, form, change)
        if status_changed:
            services.user_set_banned(user=obj, banned=obj.is_banned)
