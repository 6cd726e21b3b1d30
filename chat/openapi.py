"""Schema-only serializers: the shapes of ``data`` that the views build as plain dicts
(``chat.presenters``). They document responses in the OpenAPI schema; nothing serializes with them.
"""

from typing import Any

from rest_framework import serializers

from chat.models import ChatType, Message
from files.openapi import FileDataSerializer


class ReactionSummarySerializer(serializers.Serializer[Any]):
    """One emoji of a message's ``reactions``, in the order each emoji was first used."""

    emoji = serializers.CharField()
    count = serializers.IntegerField(min_value=1, help_text="users who gave this emoji")
    user_ids = serializers.ListField(
        child=serializers.IntegerField(),
        max_length=20,
        help_text="the first 20 of them in reaction order",
    )


class QuoteSerializer(serializers.Serializer[Any]):
    """A reply's ``reply_to``: the quoted message as it is now."""

    message_id = serializers.IntegerField()
    seq = serializers.IntegerField()
    sender_id = serializers.IntegerField()
    type = serializers.ChoiceField(choices=Message.Type.values)
    content = serializers.CharField(
        help_text='text (its first 200 code points), or the file_id; "" once recalled'
    )
    status = serializers.ChoiceField(choices=Message.Status.values)


class ChatMessageSerializer(serializers.Serializer[Any]):
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
    reply_to = QuoteSerializer(allow_null=True, help_text="the quoted message, or null")
    mentions = serializers.ListField(
        child=serializers.IntegerField(), help_text="mentioned user ids in the order given"
    )
    mention_all = serializers.BooleanField(help_text="mentions everyone in the group")
    reactions = ReactionSummarySerializer(
        many=True, help_text="in the order each emoji was first used; [] once recalled"
    )
    edited_at = serializers.IntegerField(allow_null=True, help_text="unix seconds of the last edit")
    forwarded = serializers.BooleanField(help_text="created by forwarding")


class HistorySerializer(serializers.Serializer[Any]):
    hasMore = serializers.BooleanField()
    messages = ChatMessageSerializer(many=True, help_text="ascending seq")


class ReadResultSerializer(serializers.Serializer[Any]):
    read_seq = serializers.IntegerField()


class MessageDeletedSerializer(serializers.Serializer[Any]):
    message_id = serializers.IntegerField()


class ConversationEntrySerializer(serializers.Serializer[Any]):
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
    mention_count = serializers.IntegerField(
        help_text="unread messages that mention me or everyone, sent by others, not recalled, "
        "not deleted by me"
    )
    is_muted = serializers.BooleanField(help_text="do not disturb (POST /chat/conversation/mute)")


class PinResultSerializer(serializers.Serializer[Any]):
    conversation_id = serializers.IntegerField()
    is_pinned = serializers.BooleanField()


# --- Read receipts, mute, badge (CONTRACT 10) -------------------------------------------------
class ConversationMuteResultSerializer(serializers.Serializer[Any]):
    conversation_id = serializers.IntegerField(help_text="my conversation entry (8.6 `id`)")
    is_muted = serializers.BooleanField()


class UnreadBadgeSerializer(serializers.Serializer[Any]):
    """Sums over the conversations of my 8.6 list."""

    unread_count = serializers.IntegerField(help_text="unread messages of unmuted conversations")
    muted_unread_count = serializers.IntegerField(
        help_text="unread messages of muted conversations"
    )
    mention_count = serializers.IntegerField(
        help_text="unread messages that mention me or everyone, in all of them"
    )


class MessageReadersSerializer(serializers.Serializer[Any]):
    """The current members who could see a group message, the sender excluded."""

    read_user_ids = serializers.ListField(
        child=serializers.IntegerField(), help_text="read position at or past its seq; ascending"
    )
    unread_user_ids = serializers.ListField(
        child=serializers.IntegerField(), help_text="read position before its seq; ascending"
    )
    read_count = serializers.IntegerField()
    unread_count = serializers.IntegerField()


# --- Message search (CONTRACT 11) -------------------------------------------------------------
class MessageSearchConversationSerializer(serializers.Serializer[Any]):
    """A search result's conversation seen from me, named as in 8.6."""

    chat_type = serializers.ChoiceField(choices=ChatType.values, help_text="0 private, 1 group")
    target_id = serializers.IntegerField(help_text="the other user, or the group")
    target_name = serializers.CharField(
        help_text="my remark for a friend, else the nickname; or the group name"
    )
    target_avatar = serializers.CharField()


class MessageSearchResultSerializer(ChatMessageSerializer):
    """A message object of 8.1/8.2 with its conversation."""

    conversation = MessageSearchConversationSerializer()


class MessageSearchSerializer(serializers.Serializer[Any]):
    messages = MessageSearchResultSerializer(many=True, help_text="newest first (by id)")
    hasMore = serializers.BooleanField(help_text="older matches exist (page on with before_id)")
