from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from chat import services
from chat.models import Conversation, ConversationMember, Message


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

    @admin.action(description="Recall selected messages (participants get the recall push)")
    def recall_messages(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        for message in queryset:
            services.message_recall_by_staff(message_id=message.pk, operator=request.user)
        self.message_user(request, f"Recalled {queryset.count()} message(s).", messages.SUCCESS)


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("id", "type", "user_low", "user_high", "group", "last_seq", "updated_at")
    list_filter = ("type",)
    raw_id_fields = ("user_low", "user_high", "group", "last_message")
    readonly_fields = ("last_seq",)
    ordering = ("-id",)


@admin.register(ConversationMember)
class ConversationMemberAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "conversation", "read_seq", "clear_seq", "is_pinned")
    search_fields = ("user__username",)
    raw_id_fields = ("user", "conversation")
    ordering = ("-id",)
