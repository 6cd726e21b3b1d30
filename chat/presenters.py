"""How messages and conversations look at the API edge (REST objects and push payloads).

Plain functions rather than DRF serializers: these run on the hot path of every send and every
history page.
"""

from datetime import UTC, datetime
from typing import Any

from chat.models import ChatType, Conversation, ConversationMember, Message
from files.selectors import file_data

RECEIVER_TYPE: dict[int, str] = {ChatType.PRIVATE: "user", ChatType.GROUP: "group"}
MESSAGE_TYPE_NAME = {value: label for value, label in Message.Type.choices}
PREVIEW_BY_TYPE: dict[int, str] = {
    Message.Type.IMAGE: "[图片]",
    Message.Type.FILE: "[文件]",
    Message.Type.AUDIO: "[语音]",
    Message.Type.VIDEO: "[视频]",
}
RECALLED_PREVIEW = "[消息已撤回]"
QUOTE_TEXT_LENGTH = 200  # code points of a quoted text, cut without an ellipsis


def _unix(value: datetime | None) -> int | None:
    return int(value.timestamp()) if value is not None else None


def message_data(message: Message) -> dict[str, Any]:
    """The message object of 8.1/8.2; ``sender`` and ``file`` should be loaded with it."""
    recalled = message.is_recalled
    return {
        "id": message.pk,
        "seq": message.seq,
        "from_user_id": message.sender_id,
        "to_user_id": message.to_user_id,
        "group_id": message.group_id,
        "chat_type": message.chat_type,
        "type": message.type,
        "content": "" if recalled else message.content,
        "status": message.status,
        "create_at": _unix(message.created_at),
        "client_msg_id": message.client_msg_id,
        "from_nickname": message.sender.nickname,
        "from_avatar": message.sender.avatar,
        "file": None if recalled or message.file is None else file_data(message.file),
        **message_feature_data(message),
    }


def message_feature_data(message: Message) -> dict[str, Any]:
    """The fields of CONTRACT 10 that every message object carries (``reply_to`` should be
    loaded with the message)."""
    return {
        # ``reply_to`` is None, without a query, when ``reply_to_id`` is
        "reply_to": None if message.reply_to is None else quote_data(message.reply_to),
        "mentions": message.mentions,
        "mention_all": message.mention_all,
        # a recalled message shows nothing of what it was, its reactions included
        "reactions": [] if message.is_recalled else message.reactions,
        "edited_at": _unix(message.edited_at),
        "forwarded": message.forwarded,
    }


def quote_data(quoted: Message) -> dict[str, Any]:
    """A reply's ``reply_to``: the quoted message as it is now."""
    recalled = quoted.is_recalled
    content = quoted.content
    if quoted.type == Message.Type.TEXT:
        content = content[:QUOTE_TEXT_LENGTH]
    return {
        "message_id": quoted.pk,
        "seq": quoted.seq,
        "sender_id": quoted.sender_id,
        "type": quoted.type,
        "content": "" if recalled else content,
        "status": quoted.status,
    }


def message_push_data(message: Message) -> dict[str, Any]:
    """The ``message`` WebSocket frame's data (API.md 9.1 + CONTRACT 7); every key present."""
    data = message_data(message)
    chat_type = message.chat_type
    return {
        "message_id": message.pk,
        "sender_id": message.sender_id,
        "receiver_id": message.group_id if chat_type == ChatType.GROUP else message.to_user_id,
        "receiver_type": RECEIVER_TYPE[chat_type],
        "content": data["content"],
        "message_type": MESSAGE_TYPE_NAME[message.type],
        "timestamp": message.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "seq": message.seq,
        "chat_type": chat_type,
        "group_id": message.group_id,
        "client_msg_id": message.client_msg_id,
        "file": data["file"],
        "from_nickname": data["from_nickname"],
        "from_avatar": data["from_avatar"],
        "status": message.status,
        "reply_to": data["reply_to"],
        "mentions": data["mentions"],
        "mention_all": data["mention_all"],
        "reactions": data["reactions"],
        "edited_at": data["edited_at"],
        "forwarded": data["forwarded"],
    }


def message_preview(message: Message | None) -> str:
    if message is None:
        return ""
    if message.is_recalled:
        return RECALLED_PREVIEW
    return PREVIEW_BY_TYPE.get(message.type, message.content)


def conversation_entry_data(
    entry: ConversationMember,
    *,
    target_id: int,
    target_name: str,
    target_avatar: str,
    mention_count: int = 0,
) -> dict[str, Any]:
    """One item of the 8.6 list, with ``mention_count`` and ``is_muted`` of CONTRACT 10."""
    conversation: Conversation = entry.conversation
    visible_message = conversation.last_message if conversation.last_seq > entry.clear_seq else None
    return {
        "id": entry.pk,
        "user_id": entry.user_id,
        "target_id": target_id,
        "type": conversation.type,
        "last_message_id": visible_message.pk if visible_message else None,
        "last_message": message_preview(visible_message),
        "last_message_time": _unix(visible_message.created_at) if visible_message else None,
        "create_at": _unix(entry.created_at),
        "update_at": _unix(entry.updated_at),
        "target_name": target_name,
        "target_avatar": target_avatar,
        "unread_count": max(0, conversation.last_seq - entry.read_seq),
        "is_pinned": entry.is_pinned,
        "last_seq": conversation.last_seq,
        "read_seq": entry.read_seq,
        "mention_count": mention_count,
        "is_muted": entry.is_muted,
    }


def message_ref_data(message: Message) -> dict[str, Any]:
    """The message as the pushes about it name it (``recall``, ``reaction``, ``edit``), with
    ``sender_id``, ``receiver_id`` and ``group_id`` as in its ``message`` push."""
    chat_type = message.chat_type
    return {
        "message_id": message.pk,
        "seq": message.seq,
        "chat_type": chat_type,
        "sender_id": message.sender_id,
        "receiver_id": message.group_id if chat_type == ChatType.GROUP else message.to_user_id,
        "group_id": message.group_id,
    }


def reaction_push_data(
    message: Message, *, user_id: int, emoji: str, action: str, count: int
) -> dict[str, Any]:
    """The ``reaction`` frame's data: the message, who gave or took back which emoji
    (``action`` ``"add"`` or ``"remove"``), and that emoji's count now."""
    return {
        **message_ref_data(message),
        "user_id": user_id,
        "emoji": emoji,
        "action": action,
        "count": count,
    }


def edit_push_data(message: Message) -> dict[str, Any]:
    """The ``edit`` frame's data: the message, its new text and when it was edited (unix
    seconds)."""
    return {
        **message_ref_data(message),
        "content": message.content,
        "edited_at": _unix(message.edited_at),
    }
