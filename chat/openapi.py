"""Schema-only serializers: the shapes of ``data`` that the views build as plain dicts
(``chat.presenters``). They document responses in the OpenAPI schema; nothing serializes with them.
"""

from rest_framework import serializers

from chat.models import ChatType, Message
from files.openapi import FileDataSerializer


class ChatMessageSerializer(serializers.Serializer):
    """The message object of 8.1/8.2 (``chat.presenters.message_data``)."""

    id = serializers.IntegerField()
    seq = serializers.IntegerField(help_text="1, 2, 3... per conversation")
    from_user_id = serializers.IntegerField()
    to_user_id = serializers.IntegerField(allow_null=True, help_text="private messages")
    group_id = serializers.IntegerField(allow_null=True, help_text="group messages")
    chat_type = serializers.ChoiceField(choices=ChatType.values, help_text="0 private, 1 group")
    type = serializers.ChoiceField(
        choices=Message.Type.values, help_text="0 text, 1 image, 2 file, 3 audio, 4 video"
    )
    content = serializers.CharField(help_text='text, or the file_id; "" once recalled')
    status = serializers.ChoiceField(
        choices=Message.Status.values, help_text="1 normal, 2 recalled"
    )
    create_at = serializers.IntegerField(help_text="unix seconds")
    client_msg_id = serializers.CharField(allow_null=True)
    from_nickname = serializers.CharField()
    from_avatar = serializers.CharField()
    file = FileDataSerializer(allow_null=True, help_text="types 1-4; null for text or recalled")


class HistorySerializer(serializers.Serializer):
    hasMore = serializers.BooleanField()
    messages = ChatMessageSerializer(many=True, help_text="ascending seq")


class ReadResultSerializer(serializers.Serializer):
    read_seq = serializers.IntegerField()


class MessageDeletedSerializer(serializers.Serializer):
    message_id = serializers.IntegerField()


class ConversationEntrySerializer(serializers.Serializer):
    """One item of 8.6 (``chat.presenters.conversation_entry_data``)."""

    id = serializers.IntegerField(help_text="my conversation entry: conversation_id of 8.7")
    user_id = serializers.IntegerField()
    target_id = serializers.IntegerField(help_text="the other user, or the group")
    type = serializers.ChoiceField(choices=ChatType.values, help_text="0 private, 1 group")
    last_message_id = serializers.IntegerField(allow_null=True)
    last_message = serializers.CharField(
        help_text="text or [图片] [文件] [语音] [视频] [消息已撤回]"
    )
    last_message_time = serializers.IntegerField(allow_null=True, help_text="unix seconds")
    create_at = serializers.IntegerField(help_text="unix seconds")
    update_at = serializers.IntegerField(help_text="unix seconds")
    target_name = serializers.CharField()
    target_avatar = serializers.CharField()
    unread_count = serializers.IntegerField()
    is_pinned = serializers.BooleanField()
    last_seq = serializers.IntegerField()
    read_seq = serializers.IntegerField()


class PinResultSerializer(serializers.Serializer):
    conversation_id = serializers.IntegerField()
    is_pinned = serializers.BooleanField()
