from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from groups import services
from groups.models import Group, GroupApplication, GroupMember
from imserver.admin_mixins import ViewOnlyAdminMixin


class GroupMemberInline(admin.TabularInline):
    model = GroupMember
    fields = ("user", "role", "nickname", "muted_until", "joined_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Group | None = None) -> bool:
        return False  # membership changes go through the services (count, notifications)


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "name",
        "owner",
        "member_count",
        "max_member_count",
        "status",
        "created_at",
    )
    list_filter = ("status", "created_at")
    search_fields = ("name", "description", "owner__username", "owner__nickname")
    list_select_related = ("owner",)
    ordering = ("-id",)
    raw_id_fields = ("owner",)
    readonly_fields = (
        "owner",
        "member_count",
        "status",
        "application_seq",
        "created_at",
        "updated_at",
    )
    inlines = (GroupMemberInline,)
    actions = ("dismiss_groups",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a group needs an owner membership: created through the API

    def has_delete_permission(self, request: HttpRequest, obj: Group | None = None) -> bool:
        return False  # moderation dismisses (members notified, history kept); never deletes

    @admin.action(
        description=_("Dismiss selected groups (members are notified)"), permissions=["change"]
    )
    def dismiss_groups(self, request: HttpRequest, queryset: QuerySet[Group]) -> None:
        """Each group dismissed by this action gets an admin log entry naming the staff member;
        one already dismissed gets none."""
        dismissed = 0
        for group in queryset:
            if services.group_dismiss_by_staff(staff_user=request.user, group_id=group.pk):
                dismissed += 1
                self.log_change(request, group, gettext("Dismissed"))
        text = ngettext("Dismissed %(count)d group.", "Dismissed %(count)d groups.", dismissed)
        self.message_user(request, text % {"count": dismissed}, messages.SUCCESS)


@admin.register(GroupMember)
class GroupMemberAdmin(admin.ModelAdmin):
    list_display = ("id", "group", "user", "role", "nickname", "muted_until", "joined_at")
    list_filter = ("role", "joined_at")
    search_fields = ("group__name", "user__username", "user__nickname", "nickname")
    list_select_related = ("group", "user")
    ordering = ("-id",)
    readonly_fields = ("group", "user", "role", "joined_at", "updated_at", "applications_seen_seq")
    fields = ("group", "user", "role", "nickname", "muted_until", "joined_at", "updated_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: GroupMember | None = None) -> bool:
        return False  # removing a member must keep member_count exact: use the API's kick


@admin.register(GroupApplication)
class GroupApplicationAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """View only: applications are handled by the group's owner and admins."""

    list_display = ("id", "group", "user", "status", "reason", "handled_by", "arrived_at")
    list_filter = ("status", "arrived_at")
    search_fields = ("group__name", "user__username", "user__nickname", "reason")
    list_select_related = ("group", "user", "handled_by")
    ordering = ("-id",)
    readonly_fields = (
        "group",
        "user",
        "reason",
        "status",
        "handled_by",
        "arrived_at",
        "arrival_seq",
        "created_at",
        "updated_at",
    )
