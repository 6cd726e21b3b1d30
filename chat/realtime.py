"""The chat frames of ``/ws``: the same validation and services as the REST endpoints."""

from typing import Any

from accounts.models import User
from chat import selectors, services
from chat.models import Message
from chat.serializers import ConversationTargetSerializer, send_input
from imserver.api.throttling import messages_by_user
from imserver.api.validation import validated


def send_from_frame(user: User, data: dict[str, Any]) -> Message:
    fields = send_input(data)
    # Every well-formed send counts, also one refused later or a retry; a refused one
    # stores nothing.
    messages_by_user.hit(user.pk)
    return services.message_send(sender=user, **fields)


def read_from_frame(user: User, data: dict[str, Any]) -> int:
    return services.conversation_read(user=user, **validated(ConversationTargetSerializer, data))


def typing_from_frame(user: User, data: dict[str, Any]) -> tuple[list[int], dict[str, Any]]:
    """Who sees "typing…" and what they get; the same permission rules as sending."""
    target = validated(ConversationTargetSerializer, data)
    recipients = selectors.typing_recipients(user=user, **target)
    return recipients, {"user_id": user.pk, **target}
