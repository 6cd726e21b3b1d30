"""Chat's client frames on ``/ws`` (``message``, ``read``, ``typing``): the same validation and
services as the REST endpoints. ``chat/apps.py`` registers them with ``realtime.frames``.
"""

from typing import Any

from accounts.models import User
from chat import selectors, services
from chat.models import Message
from chat.serializers import ConversationTargetSerializer, send_input
from imserver import metrics
from imserver.api.throttling import messages_by_user
from imserver.api.validation import validated
from imserver.publish import deferred_pushes, push_now
from realtime.frames import FrameSocket


def send_from_frame(user: User, data: dict[str, Any]) -> Message:
    fields = send_input(data)
    # Every well-formed send counts, also one refused later or a retry; a refused one
    # stores nothing.
    messages_by_user.hit(user.pk)
    message = services.message_send(sender=user, **fields)
    metrics.message_sent("ws", message.chat_type)
    return message


def read_from_frame(user: User, data: dict[str, Any]) -> int:
    return services.conversation_read(user=user, **validated(ConversationTargetSerializer, data))


def typing_from_frame(user: User, data: dict[str, Any]) -> tuple[list[int], dict[str, Any]]:
    """Who sees "typing…" and what they get; the same permission rules as sending."""
    target = validated(ConversationTargetSerializer, data)
    recipients = selectors.typing_recipients(user=user, **target)
    return recipients, {"user_id": user.pk, **target}


async def on_message(socket: FrameSocket, data: dict[str, Any]) -> None:
    """``ack`` or ``error``, both echoing ``client_msg_id``."""
    client_msg_id = data.get("client_msg_id")
    async with deferred_pushes():  # the sender's own sockets get the ack before the message
        message = await socket.call(send_from_frame, data, client_msg_id=client_msg_id)
        if message is not None:
            await socket.send_frame(
                "ack",
                {
                    "client_msg_id": message.client_msg_id,
                    "message_id": message.pk,
                    "seq": message.seq,
                },
            )


async def on_read(socket: FrameSocket, data: dict[str, Any]) -> None:
    await socket.call(read_from_frame, data)


async def on_typing(socket: FrameSocket, data: dict[str, Any]) -> None:
    relay = await socket.call(typing_from_frame, data)
    if relay is not None:
        recipients, payload = relay
        await push_now(recipients, "typing", payload)
