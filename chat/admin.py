from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from chat import services
from chat.models import Conversation, ConversationMember, Message, MessageDeletion
from imserver.admin_mixins import ViewOnlyAdminMixin


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "conversation",
        "seq",
        "sender",
        "to_user",
        "group",
        "type",
        "status",
        "created_at",
    )
    list_filter = ("status", "type", "created_at")
    search_fields = ("content", "sender__username", "client_msg_id")
    list_select_related = ("conversation", "sender", "to_user", "group")
    raw_id_fields = ("conversation", "sender", "to_user", "group", "file")
    readonly_fields = (
        "conversation",
        "seq",
        "sender",
        "to_user",
        "group",
        "type",
        "content",
        "file",
        "status",
        "client_msg_id",
        "created_at",
        "recalled_at",
    )
    ordering = ("-id",)
    actions = ("recall_messages",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Message | None = None) -> bool:
        return False  # a deleted row would leave a gap in the seq: moderation recalls

    @admin.action(
        description=_("Recall selected messages (participants get the recall push)"),
        permissions=["change"],
    )
    def recall_messages(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        """Each message recalled by this action gets an admin log entry naming the staff member
        (the recall push names them too, as ``operator_id``); one already recalled gets none."""
        recalled = 0
        for message_id, status in queryset.values_list("pk", "status"):
            message = services.message_recall_by_staff(message_id=message_id, operator=request.user)
            if status != Message.Status.RECALLED and message.is_recalled:
                recalled += 1
                self.log_change(request, message, gettext("Recalled"))
        text = ngettext("Recalled %(count)d message.", "Recalled %(count)d messages.", recalled)
        self.message_user(request, text % {"count": recalled}, messages.SUCCESS)


@admin.register(Conversation)
class ConversationAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """View only: a private pair or a group, with its last ``seq``."""

    list_display = ("id", "type", "user_low", "user_high", "group", "last_seq", "updated_at")
    list_filter = ("type", "updated_at")
    search_fields = ("user_low__username", "user_high__username", "group__name")
    list_select_related = ("user_low", "user_high", "group")
    ordering = ("-id",)


@admin.register(ConversationMember)
class ConversationMemberAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """View only: a user's read position, clear position and pin in a conversation."""

    list_display = ("id", "user", "conversation", "read_seq", "clear_seq", "is_pinned")
    list_filter = ("is_pinned", "conversation__type")
    search_fields = ("user__username", "user__nickname")
    list_select_related = ("user", "conversation")
    ordering = ("-id",)


@admin.register(MessageDeletion)
class MessageDeletionAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """View only: messages a user deleted for themself (8.5)."""

    list_display = ("id", "user", "message", "created_at")
    list_filter = ("created_at",)
    search_fields = ("user__username",)
    list_select_related = ("user", "message")
    ordering = ("-id",)
