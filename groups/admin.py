from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.authentication import admin_user
from groups import services
from groups.models import Group, GroupApplication, GroupMember
from groups.services import MAX_MUTE_SECONDS
from imserver.admin_mixins import ViewOnlyAdminMixin

# Changed through the service, which tells every member (GroupAdmin.save_model).
GROUP_INFO_FIELDS = ("name", "description", "avatar")


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

    def get_readonly_fields(
        self, request: HttpRequest, obj: Group | None = None
    ) -> tuple[str, ...]:
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and obj.is_dismissed:
            return fields + GROUP_INFO_FIELDS  # a dismissed group takes no more changes
        return fields

    def save_model(self, request: HttpRequest, obj: Group, form: Any, change: bool) -> None:
        """The member cap is written as is; name, description and avatar go through the service,
        so the members are told, with the staff member as the operator, as after
        ``PUT /group/update/info``."""
        if "max_member_count" in form.changed_data:
            obj.save(update_fields=["max_member_count", "updated_at"])
        info = {
            field: getattr(obj, field) for field in GROUP_INFO_FIELDS if field in form.changed_data
        }
        if info:
            services.group_update_info_by_staff(
                staff_user=admin_user(request), group_id=obj.pk, info=info
            )

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
            if services.group_dismiss_by_staff(staff_user=admin_user(request), group_id=group.pk):
                dismissed += 1
                self.log_change(request, group, gettext("Dismissed"))
        text = ngettext("Dismissed %(count)d group.", "Dismissed %(count)d groups.", dismissed)
        self.message_user(request, text % {"count": dismissed}, messages.SUCCESS)


class GroupMemberForm(forms.ModelForm):
    mute_for = forms.IntegerField(
        label=_("Mute for (seconds)"),
        required=False,
        min_value=0,
        max_value=MAX_MUTE_SECONDS,
        help_text=_("From now; 0 unmutes, empty leaves the mute as it is. The member is told."),
    )

    class Meta:
        model = GroupMember
        fields = ("nickname",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None and self.instance.group.is_dismissed:
            del self.fields["mute_for"]  # a dismissed group takes no more changes


@admin.register(GroupMember)
class GroupMemberAdmin(admin.ModelAdmin):
    form = GroupMemberForm
    list_display = ("id", "group", "user", "role", "nickname", "muted_until", "joined_at")
    list_filter = ("role", "joined_at")
    search_fields = ("group__name", "user__username", "user__nickname", "nickname")
    list_select_related = ("group", "user")
    ordering = ("-id",)
    readonly_fields = (
        "group",
        "user",
        "role",
        "muted_until",
        "joined_at",
        "updated_at",
        "applications_seen_seq",
    )
    fields = (
        "group",
        "user",
        "role",
        "nickname",
        "muted_until",
        "mute_for",
        "joined_at",
        "updated_at",
    )

    def get_fields(
        self, request: HttpRequest, obj: GroupMember | None = None
    ) -> list[str | list[str] | tuple[str, ...]]:
        fields = list(super().get_fields(request, obj))
        if obj is not None and obj.group.is_dismissed:
            fields.remove("mute_for")  # not on the form either (GroupMemberForm)
        return fields

    def save_model(self, request: HttpRequest, obj: GroupMember, form: Any, change: bool) -> None:
        """The in-group nickname is written as is (nothing else follows from it); a mute goes
        through the service, so the member is told and pushed to, as after
        ``POST /group/mute/member``."""
        if "nickname" in form.changed_data:
            obj.save(update_fields=["nickname", "updated_at"])
        duration = form.cleaned_data.get("mute_for")
        if duration is not None:
            services.group_member_mute_by_staff(
                staff_user=admin_user(request),
                group_id=obj.group_id,
                target_user_id=obj.user_id,
                duration=duration,
            )

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
