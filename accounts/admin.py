from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

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
        ("IM", {"fields": ("nickname", "avatar", "status", "token_version")}),
        ("Timestamps", {"fields": ("created_at", "updated_at")}),
    )
    actions = ("ban_users", "unban_users")

    @admin.action(description="Ban selected users (revokes their tokens)")
    def ban_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            services.user_set_banned(user=user, banned=True)
        self.message_user(request, f"Banned {queryset.count()} user(s).", messages.SUCCESS)

    @admin.action(description="Unban selected users")
    def unban_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            services.user_set_banned(user=user, banned=False)
        self.message_user(request, f"Unbanned {queryset.count()} user(s).", messages.SUCCESS)

    def save_model(self, request: HttpRequest, obj: User, form, change: bool) -> None:
        """Banning through the edit form revokes tokens just like the action does."""
        status_changed = change and "status" in form.changed_data
        super().save_model(request, obj, form, change)
        if status_changed:
            services.user_set_banned(user=obj, banned=obj.is_banned)
