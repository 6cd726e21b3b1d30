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
    outcome = sends_from_frames(user, [data])[0]
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def sends_from_frames(user: User, frames: list[dict[str, Any]]) -> list[Message | Exception]:
    """The ``message`` frames of one socket, in order, stored in one batch where they can
    (``services.message_send_many``): each frame's message, or the exception that refused it."""
    requests: list[services.SendRequest | Exception] = []
    for data in frames:
        try:
            fields = send_input(data)
            # Every well-formed send counts, also one refused later or a retry; a refused one
            # stores nothing.
            messages_by_user.hit(user.pk)
            requests.append(services.SendRequest(**fields))
        except Exception as error:  # this frame's outcome; the others go on
            requests.append(error)
    sent = iter(
        services.message_send_many(
            sender=user,
            requests=[item for item in requests if isinstance(item, services.SendRequest)],
        )
    )
    outcomes = [next(sent) if isinstance(item, services.SendRequest) else item for item in requests]
    for outcome in outcomes:
        if isinstance(outcome, Message):
            metrics.message_sent("ws", outcome.chat_type)
    return outcomes


def read_from_frame(user: User, data: dict[str, Any]) -> int:
    return services.conversation_read(user=user, **validated(ConversationTargetSerializer, data))


def typing_from_frame(user: User, data: dict[str, Any]) -> tuple[list[int], dict[str, Any]]:
    """Who sees "typing…" and what they get; the same permission rules as sending."""
    target = validated(ConversationTargetSerializer, data)
    recipients = selectors.typing_recipients(user=user, **target)
    return recipients, {"user_id": user.pk, **target}


async def on_message(socket: FrameSocket, data: dict[str, Any]) -> None:
    """``ack`` or ``error``, both echoing ``client_msg_id``."""
    await on_messages(socket, [data])


async def on_messages(socket: FrameSocket, frames: list[dict[str, Any]]) -> None:
    """Consecutive ``message`` frames of one socket: an ``ack`` or ``error`` for each, in order,
    then the pushes (the sender's own sockets get each ack before its message)."""
    async with deferred_pushes():
        try:
            outcomes: list[Message | Exception] = await socket.run(sends_from_frames, frames)
        except Exception as error:  # every frame of the batch is refused with it
            outcomes = [error] * len(frames)
        for data, outcome in zip(frames, outcomes, strict=True):
            if isinstance(outcome, Message):
                await socket.send_frame(
                    "ack",
                    {
                        "client_msg_id": outcome.client_msg_id,
                        "message_id": outcome.pk,
                        "seq": outcome.seq,
                    },
                )
            else:
                await socket.refuse(outcome, client_msg_id=data.get("client_msg_id"))


async def on_read(socket: FrameSocket, data: dict[str, Any]) -> None:
    await socket.call(read_from_frame, data)


async def on_typing(socket: FrameSocket, data: dict[str, Any]) -> None:
    relay = await socket.call(typing_from_frame, data)
    if relay is not None:
        recipients, payload = relay
        await push_now(recipients, "typing", payload)
