from django.contrib import admin

from imserver.admin_mixins import ViewOnlyAdminMixin
from social.models import FriendRequest, Friendship


@admin.register(Friendship)
class FriendshipAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """One row per direction; ``status`` 2 is a block held by ``user``. View only."""

    list_display = ("id", "user", "friend", "status", "is_friend", "remark", "created_at")
    list_filter = ("status", "is_friend", "created_at")
    search_fields = ("user__username", "user__nickname", "friend__username", "friend__nickname")
    list_select_related = ("user", "friend")
    raw_id_fields = ("user", "friend")
    readonly_fields = ("created_at", "updated_at")
    ordering = ("-id",)


@admin.register(FriendRequest)
class FriendRequestAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """View only: requests are handled by their recipients."""

    list_display = ("id", "from_user", "to_user", "status", "is_read", "message", "created_at")
    list_filter = ("status", "is_read", "created_at")
    search_fields = (
        "from_user__username",
        "from_user__nickname",
        "to_user__username",
        "to_user__nickname",
        "message",
    )
    list_select_related = ("from_user", "to_user")
    raw_id_fields = ("from_user", "to_user")
    readonly_fields = ("created_at", "updated_at")
    ordering = ("-id",)
