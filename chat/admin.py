from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.authentication import admin_user
from chat import services
from chat.models import (
    Conversation,
    ConversationMember,
    Message,
    MessageDeletion,
    MessageEdit,
    Reaction,
)
from imserver.admin_mixins import ViewOnlyAdminMixin


class MessageEditInline(ViewOnlyAdminMixin, admin.TabularInline):
    """A message's edit history, oldest first: each earlier text, the text it became, who
    edited and when (CONTRACT 10 keeps earlier versions for staff). Written by the edit service
    only."""

    model = MessageEdit
    fields = ("edited_at", "editor", "previous_content", "content")
    readonly_fields = fields
    ordering = ("pk",)
    extra = 0
    verbose_name = _("edit")
    verbose_name_plural = _("edit history")

    def get_queryset(self, request: HttpRequest) -> QuerySet[MessageEdit]:
        return super().get_queryset(request).select_related("editor")


class ReactionInline(ViewOnlyAdminMixin, admin.TabularInline):
    """Who gave which emoji, in reaction order (the message's ``reactions`` summarizes them).
    Written by the reaction services only, which keep the summary equal to these rows."""

    model = Reaction
    fields = ("created_at", "user", "emoji")
    readonly_fields = fields
    ordering = ("pk",)
    extra = 0
    verbose_name = _("reaction")
    verbose_name_plural = _("reactions")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Reaction]:
        return super().get_queryset(request).select_related("user")


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
        "edited_at",
        "reply_to",
        "mentions",
        "mention_all",
        "forwarded",
        "reactions",
    )
    inlines = (MessageEditInline, ReactionInline)
    ordering = ("-id",)
    actions = ("recall_messages",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Message | None = None) -> bool:
        return False  # a deleted row would leave a gap in the seq: moderation recalls

    def save_model(self, request: HttpRequest, obj: Message, form: Any, change: bool) -> None:
        """Writes nothing: every field is read-only and the row belongs to the services. Saving
        the form would write back every column as it was read, undoing a recall, an edit or a
        reaction committed in between (the ``reactions`` summary would no longer count its
        rows)."""

    @admin.action(
        description=_("Recall selected messages (participants get the recall push)"),
        permissions=["change"],
    )
    def recall_messages(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        """Each message recalled by this action gets an admin log entry naming the staff member
        (the recall push names them too, as ``operator_id``); one already recalled gets none."""
        recalled = 0
        for message_id, status in queryset.values_list("pk", "status"):
            message = services.message_recall_by_staff(
                message_id=message_id, operator=admin_user(request)
            )
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
