from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from chat.models import ChatType, Message
from imserver.api.fields import IdField, TrimmedCharField

MAX_TEXT_LENGTH = 5000
RECEIVER_TYPES = {"user": ChatType.PRIVATE, "group": ChatType.GROUP}
MESSAGE_TYPES = {label: value for value, label in Message.Type.choices}


class SendMessageInputSerializer(serializers.Serializer):
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


class ConversationTargetSerializer(serializers.Serializer):
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
        attrs["limit"] = min(attrs["limit"], 100)
        return attrs


class MessageIdSerializer(serializers.Serializer):
    message_id = IdField()


class ConversationDeleteSerializer(serializers.Serializer):
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
