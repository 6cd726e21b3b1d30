from django.contrib import admin

from imserver.admin_mixins import ViewOnlyAdminMixin
from notifications.models import GroupNotification


@admin.register(GroupNotification)
class GroupNotificationAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """View only: the services write one row per concerned user."""

    list_display = ("id", "recipient", "type", "group", "operator", "is_read", "created_at")
    list_filter = ("type", "is_read", "created_at")
    search_fields = ("recipient__username", "group__name", "message")
    list_select_related = ("recipient", "group", "operator")
    ordering = ("-id",)
    readonly_fields = (
        "recipient",
        "type",
        "group",
        "operator",
        "target_user",
        "message",
        "is_read",
        "created_at",
    )
