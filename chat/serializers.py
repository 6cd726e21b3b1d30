from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from chat.models import ChatType, Message
from chat.permissions import MAX_TEXT_LENGTH
from chat.selectors import SEARCH_KEYWORD_MAX_LENGTH, SEARCH_PAGE_MAX
from imserver.api.fields import IdField, TrimmedCharField
from imserver.api.validation import validated

RECEIVER_TYPES = {"user": ChatType.PRIVATE, "group": ChatType.GROUP}
MESSAGE_TYPES = {label: value for value, label in Message.Type.choices}
MAX_MENTIONS = 50


class SendMessageInputSerializer(serializers.Serializer[Any]):
    """Both request forms of 8.1, normalised to ``chat_type, target_id, type, content``.

    Documented form: ``{to_user_id | group_id, type, content, chat_type}``.
    Alternate form: ``{receiver_id, receiver_type: user|group, message_type: text|..., content}``.
    """

    chat_type = serializers.ChoiceField(choices=ChatType.values, required=False)
    to_user_id = IdField(required=False)
    group_id = IdField(required=False)
    type = serializers.ChoiceField(choices=Message.Type.values, required=False)
    receiver_id = IdField(required=False)
    receiver_type = serializers.ChoiceField(choices=list(RECEIVER_TYPES), required=False)
    message_type = serializers.ChoiceField(choices=list(MESSAGE_TYPES), required=False)
    content = TrimmedCharField(max_length=MAX_TEXT_LENGTH)
    client_msg_id = TrimmedCharField(max_length=64, required=False, allow_null=True)
    reply_to = IdField(required=False, allow_null=True, help_text="the id of a quoted message")
    mentions = serializers.ListField(
        child=IdField(),
        required=False,
        help_text=f"group messages: mentioned members, at most {MAX_MENTIONS} once repeats go",
    )
    mention_all = serializers.BooleanField(
        required=False, default=False, help_text="group owner and admins: mention everyone"
    )

    def validate_mentions(self, value: list[int]) -> list[int]:
        unique = list(dict.fromkeys(value))  # the first occurrence's order
        if len(unique) > MAX_MENTIONS:
            raise serializers.ValidationError(
                _("at most %(count)d users may be mentioned") % {"count": MAX_MENTIONS}
            )
        return unique

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        chat_type, target_id = self._target(attrs)
        message_type = attrs.get("type")
        if message_type is None:
            message_type = MESSAGE_TYPES[attrs.get("message_type", "text")]
        return {
            "chat_type": chat_type,
            "target_id": target_id,
            "type": message_type,
            "content": attrs["content"],
            "client_msg_id": attrs.get("client_msg_id") or None,
            "reply_to": attrs.get("reply_to"),
            "mentions": attrs.get("mentions", []),
            "mention_all": attrs["mention_all"],
        }

    @staticmethod
    def _target(attrs: dict[str, Any]) -> tuple[int, int]:
        if "receiver_id" in attrs or "receiver_type" in attrs:
            if "receiver_type" not in attrs:
                raise serializers.ValidationError({"receiver_type": _("This field is required.")})
            if "receiver_id" not in attrs:
                raise serializers.ValidationError({"receiver_id": _("This field is required.")})
            return RECEIVER_TYPES[attrs["receiver_type"]], attrs["receiver_id"]
        chat_type = attrs.get("chat_type")
        if chat_type is None:
            if "to_user_id" in attrs and "group_id" not in attrs:
                chat_type = ChatType.PRIVATE
            elif "group_id" in attrs and "to_user_id" not in attrs:
                chat_type = ChatType.GROUP
            else:
                raise serializers.ValidationError({"chat_type": _("This field is required.")})
        field = "to_user_id" if chat_type == ChatType.PRIVATE else "group_id"
        if field not in attrs:
            raise serializers.ValidationError({field: _("This field is required.")})
        return chat_type, attrs[field]


def send_input(data: Any) -> dict[str, Any]:
    """The validated input of a send (8.1, and the ``message`` frame of /ws)."""
    fast = send_input_fast(data)
    return fast if fast is not None else validated(SendMessageInputSerializer, data)


_MAX_ID = 2**63 - 1
_CHAT_TYPE_VALUES = frozenset(ChatType.values)
_MESSAGE_TYPE_VALUES = frozenset(Message.Type.values)
# The alternate form and the fields of CONTRACT 10 always take the serializer.
_ALTERNATE_FORM_KEYS = frozenset(
    {"receiver_id", "receiver_type", "message_type", "reply_to", "mentions", "mention_all"}
)


def send_input_fast(data: Any) -> dict[str, Any] | None:
    """What ``SendMessageInputSerializer`` returns for the documented form when every value
    already has its exact type, checked without DRF (a send is the hottest path, and this skips
    building a serializer for it); None for anything else, which goes through the serializer,
    also to word its errors. tests/chat/test_send_input.py checks that the two agree."""
    if not isinstance(data, dict) or not _ALTERNATE_FORM_KEYS.isdisjoint(data):
        return None
    chat_type = data.get("chat_type")
    if "chat_type" in data and not (type(chat_type) is int and chat_type in _CHAT_TYPE_VALUES):
        return None
    for key in ("to_user_id", "group_id"):
        if key in data and not (type(data[key]) is int and 1 <= data[key] <= _MAX_ID):
            return None
    message_type = data.get("type", MESSAGE_TYPES["text"])
    if not (type(message_type) is int and message_type in _MESSAGE_TYPE_VALUES):
        return None
    content = _plain_text(data.get("content"), MAX_TEXT_LENGTH)
    client_msg_id = data.get("client_msg_id")
    if client_msg_id is not None:
        client_msg_id = _plain_text(client_msg_id, 64)
        if client_msg_id is None:
            return None
    if content is None:
        return None
    if chat_type is None:
        if ("to_user_id" in data) == ("group_id" in data):
            return None
        chat_type = ChatType.PRIVATE if "to_user_id" in data else ChatType.GROUP
    target_id = data.get("to_user_id" if chat_type == ChatType.PRIVATE else "group_id")
    if target_id is None:
        return None
    return {
        "chat_type": chat_type,
        "target_id": target_id,
        "type": message_type,
        "content": content,
        "client_msg_id": client_msg_id,
        "reply_to": None,
        "mentions": [],
        "mention_all": False,
    }


def _plain_text(value: Any, max_length: int) -> str | None:
    """A trimmed, non-blank string that the serializer's CharField would accept as it is."""
    if type(value) is not str:
        return None
    text: str = value.strip()
    if not text or len(text) > max_length or "\x00" in text:
        return None
    if not text.isascii():
        try:
            text.encode("utf-8")  # lone surrogates, which DRF refuses
        except UnicodeEncodeError:
            return None
    return text


class ConversationTargetSerializer(serializers.Serializer[Any]):
    target_id = IdField()
    chat_type = serializers.ChoiceField(choices=ChatType.values)


class HistoryQuerySerializer(ConversationTargetSerializer):
    before_seq = serializers.IntegerField(required=False, min_value=0, max_value=2**63 - 1)
    after_seq = serializers.IntegerField(required=False, min_value=0, max_value=2**63 - 1)
    limit = serializers.IntegerField(required=False, default=20, min_value=1)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "before_seq" in attrs and "after_seq" in attrs:
            raise serializers.ValidationError(
                {"after_seq": _("before_seq and after_seq cannot be combined")}
            )
        attrs["limit"] = min(attrs["limit"], SEARCH_PAGE_MAX)
        return attrs


class MessageIdSerializer(serializers.Serializer[Any]):
    message_id = IdField()


class ConversationDeleteSerializer(serializers.Serializer[Any]):
    conversation_id = IdField(required=False)
    target_id = IdField(required=False)
    chat_type = serializers.ChoiceField(choices=ChatType.values, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "conversation_id" in attrs:
            return {"conversation_id": attrs["conversation_id"]}
        for field in ("target_id", "chat_type"):
            if field not in attrs:
                raise serializers.ValidationError({"conversation_id": _("This field is required.")})
        return {"target_id": attrs["target_id"], "chat_type": attrs["chat_type"]}


class ConversationPinSerializer(ConversationTargetSerializer):
    is_pinned = serializers.BooleanField()


# --- Reactions (CONTRACT 10) ------------------------------------------------------------------
MAX_EMOJI_LENGTH = 32  # code points, after trimming


class EmojiField(TrimmedCharField):
    """Any text of 1-32 code points once trimmed, compared exactly as given: not checked to be
    an emoji, not normalized. A number or a boolean is no text (40000)."""

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("max_length", MAX_EMOJI_LENGTH)
        super().__init__(**kwargs)

    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ReactionInputSerializer(serializers.Serializer[Any]):
    """``POST /chat/message/react`` and ``/chat/message/unreact``."""

    message_id = IdField()
    emoji = EmojiField(help_text="any text of 1-32 code points after trimming, kept as given")


# --- Conversation mute (CONTRACT 10) ----------------------------------------------------------
class ConversationMuteSerializer(ConversationTargetSerializer):
    is_muted = serializers.BooleanField()


# --- Edit and forward (CONTRACT 10) -----------------------------------------------------------
class MessageEditInputSerializer(serializers.Serializer[Any]):
    """``POST /chat/message/edit``. ``content`` is checked by the service, after the rules that
    come before it (an empty or missing text is one refusal, 40000 naming ``content``)."""

    message_id = IdField()
    content = TrimmedCharField(
        required=False,
        allow_blank=True,
        default="",
        help_text=f"the new text: 1-{MAX_TEXT_LENGTH} characters after trimming",
    )


class MessageForwardInputSerializer(serializers.Serializer[Any]):
    """``POST /chat/message/forward``: ``{message_id, chat_type, target_id, client_msg_id?}``,
    or the target as 8.1 names it (``to_user_id`` or ``group_id``, ``chat_type`` optional)."""

    message_id = IdField(help_text="the message to forward")
    chat_type = serializers.ChoiceField(choices=ChatType.values, required=False)
    target_id = IdField(required=False, help_text="the user or group to forward to")
    to_user_id = IdField(required=False)
    group_id = IdField(required=False)
    client_msg_id = TrimmedCharField(max_length=64, required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "target_id" in attrs:
            if "chat_type" not in attrs:
                raise serializers.ValidationError({"chat_type": _("This field is required.")})
            chat_type, target_id = attrs["chat_type"], attrs["target_id"]
        elif {"to_user_id", "group_id"} & attrs.keys():
            chat_type, target_id = SendMessageInputSerializer._target(attrs)
        else:
            raise serializers.ValidationError({"target_id": _("This field is required.")})
        return {
            "message_id": attrs["message_id"],
            "chat_type": chat_type,
            "target_id": target_id,
            "client_msg_id": attrs.get("client_msg_id") or None,
        }


# --- Message search (CONTRACT 11) -------------------------------------------------------------
MAX_UNIX_SECONDS = 253402300799  # 9999-12-31T23:59:59Z, the last second a datetime holds


class MessageSearchQuerySerializer(serializers.Serializer[Any]):
    """``GET /chat/search``'s query: a keyword and optional filters (``chat.selectors``
    ``message_search``)."""

    keyword = TrimmedCharField(
        max_length=SEARCH_KEYWORD_MAX_LENGTH,
        help_text="1-100 characters after trimming; split on whitespace, every term must be "
        "contained (case-insensitive)",
    )
    chat_type = serializers.ChoiceField(
        choices=ChatType.values, required=False, help_text="with target_id: one conversation"
    )
    target_id = IdField(required=False, help_text="with chat_type: the other user, or the group")
    sender_id = IdField(required=False, help_text="only messages of this sender")
    type = serializers.ChoiceField(
        choices=Message.Type.values, required=False, help_text="only messages of this type"
    )
    after = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_UNIX_SECONDS,
        help_text="unix seconds: sent at or after",
    )
    before = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_UNIX_SECONDS,
        help_text="unix seconds: sent before",
    )
    before_id = IdField(required=False, help_text="a message id: only older matches")
    limit = serializers.IntegerField(
        required=False, default=20, min_value=1, help_text="default 20, larger values: 100"
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("chat_type" in attrs) != ("target_id" in attrs):
            missing = "target_id" if "chat_type" in attrs else "chat_type"
            raise serializers.ValidationError({missing: _("chat_type and target_id go together")})
        attrs["limit"] = min(attrs["limit"], SEARCH_PAGE_MAX)
        return attrs
