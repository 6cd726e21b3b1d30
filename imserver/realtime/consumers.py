"""The ``/ws`` connection: pushes out, client frames in (CONTRACT 7).

Close codes: 4001 missing/invalid/revoked token (also when the user is banned or changes the
password while connected), 4008 silent for longer than ``IM_WS_IDLE_TIMEOUT_S``, 1009 a frame
over ``IM_WS_MAX_FRAME_BYTES``, 1011 the channel layer failed while connecting.
"""

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext
from rest_framework.exceptions import APIException

from accounts.models import User
from chat import realtime as chat_frames
from imserver.api.errors import ErrorCode, invalid_parameter_message
from imserver.api.exceptions import code_and_message
from imserver.realtime.fanout import local_sockets
from imserver.realtime.lanes import run_sync
from imserver.realtime.presence import OFFLINE, ONLINE, online_user_ids, presence_store
from imserver.realtime.publish import deferred_pushes, push_now, user_group_name
from social.selectors import friend_ids

logger = logging.getLogger("imserver.realtime")

CLOSE_UNAUTHORIZED = 4001
CLOSE_IDLE = 4008
CLOSE_TOO_BIG = 1009
CLOSE_SERVER_ERROR = 1011


def language_from_scope(scope: dict[str, Any]) -> str:
    for name, value in scope.get("headers", []):
        if name == b"accept-language":
            for code, _quality in translation.trans_real.parse_accept_lang_header(
                value.decode("latin1")
            ):
                try:
                    return translation.get_supported_language_variant(code)
                except LookupError:
                    continue
    return settings.LANGUAGE_CODE


def _frame_too_big(raw: str | bytes) -> bool:
    limit = settings.IM_WS_MAX_FRAME_BYTES
    if isinstance(raw, str):
        return len(raw) > limit or (len(raw) * 4 > limit and len(raw.encode()) > limit)
    return len(raw) > limit


class ClientConsumer(AsyncWebsocketConsumer):
    user: User | None = None
    watcher: asyncio.Task | None = None

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' dispatch without its ``aclose_old_connections()`` before every frame and
        every push: a thread hand-off each time, for nothing here, since this consumer touches
        the database only through ``run_sync``, which closes old connections on its lane."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        self.user = self.scope.get("user")
        self.language = language_from_scope(self.scope)
        self.last_frame_at = time.monotonic()
        await self.accept()
        if self.user is None:
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        self.token_version = self.user.token_version
        try:
            await self.channel_layer.group_add(user_group_name(self.user.pk), self.channel_name)
            await local_sockets().add(self.user.pk, self)
        except Exception:
            logger.exception("joining the push group of user %s failed", self.user.pk)
            self.user = None
            await self.close(code=CLOSE_SERVER_ERROR)
            return
        self.watcher = asyncio.create_task(self._watch())
        try:
            if await presence_store().connect(self.user.pk, self.channel_name):
                await self._announce_presence(ONLINE)
        except Exception:  # presence is best effort; the socket works without it
            logger.exception("registering the presence of user %s failed", self.user.pk)

    async def disconnect(self, code: int) -> None:
        if self.watcher is not None:
            self.watcher.cancel()
        if self.user is None:
            return
        user_id, self.user = self.user.pk, None
        local_sockets().remove(user_id, self)
        try:
            await self.channel_layer.group_discard(user_group_name(user_id), self.channel_name)
        except Exception:
            logger.exception("leaving the push group of user %s failed", user_id)
        try:
            if await presence_store().disconnect(user_id, self.channel_name):
                await self._announce_presence(OFFLINE, user_id=user_id)
        except Exception:
            logger.exception("clearing the presence of user %s failed", user_id)

    # --- server -> client ---------------------------------------------------------------------
    async def push(self, message: dict[str, Any]) -> None:
        """A ``publish_on_commit`` event for this user."""
        await self.send(text_data=message["text"])

    async def session_revoke(self, message: dict[str, Any]) -> None:
        if message["token_version"] > self.token_version:
            await self.close(code=CLOSE_UNAUTHORIZED)

    async def send_frame(self, frame_type: str, data: dict[str, Any]) -> None:
        await self.send(
            text_data=json.dumps({"type": frame_type, "data": data}, ensure_ascii=False)
        )

    # --- client -> server ---------------------------------------------------------------------
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.user is None:
            return
        raw = text_data if text_data is not None else bytes_data or b""
        if _frame_too_big(raw):
            await self.close(code=CLOSE_TOO_BIG)
            return
        self.last_frame_at = time.monotonic()
        with translation.override(self.language):
            try:
                frame = json.loads(raw)
            except ValueError:
                await self._error(invalid_parameter_message(gettext("malformed JSON frame")))
                return
            if not isinstance(frame, dict) or frame.get("type") not in self.handlers:
                await self._error(invalid_parameter_message(gettext("unknown frame type"), "type"))
                return
            data = frame.get("data") or {}
            if not isinstance(data, dict):
                await self._error(invalid_parameter_message(gettext("must be an object"), "data"))
                return
            await self.handlers[frame["type"]](self, data)

    async def _on_ping(self, data: dict[str, Any]) -> None:
        await self.send_frame("pong", {})

    async def _on_message(self, data: dict[str, Any]) -> None:
        client_msg_id = data.get("client_msg_id")
        async with deferred_pushes():  # the sender's own sockets get the ack before the message
            message = await self._call(
                chat_frames.send_from_frame, data, client_msg_id=client_msg_id
            )
            if message is not None:
                await self.send_frame(
                    "ack",
                    {
                        "client_msg_id": message.client_msg_id,
                        "message_id": message.pk,
                        "seq": message.seq,
                    },
                )

    async def _on_read(self, data: dict[str, Any]) -> None:
        await self._call(chat_frames.read_from_frame, data)

    async def _on_typing(self, data: dict[str, Any]) -> None:
        relay = await self._call(chat_frames.typing_from_frame, data)
        if relay is not None:
            recipients, payload = relay
            await push_now(recipients, "typing", payload)

    handlers: dict[str, Callable[["ClientConsumer", dict[str, Any]], Awaitable[None]]] = {
        "ping": _on_ping,
        "message": _on_message,
        "read": _on_read,
        "typing": _on_typing,
    }

    async def _call(self, function: Callable[..., Any], data: dict[str, Any], **echo: Any) -> Any:
        """Run a sync chat function for this user; refusals become an ``error`` frame."""
        language = self.language

        def run() -> Any:
            with translation.override(language):
                return function(self.user, data)

        try:
            return await run_sync(run)
        except APIException as exc:
            with translation.override(language):
                code, message = code_and_message(exc)
            await self._error(message, code=code, **echo)
        except Exception:
            logger.exception("frame from user %s failed", self.user.pk if self.user else None)
            with translation.override(language):
                await self._error(
                    gettext("Internal server error"), code=ErrorCode.SERVER_ERROR, **echo
                )
        return None

    async def _error(
        self, message: str, *, code: int = ErrorCode.BAD_REQUEST, **extra: Any
    ) -> None:
        await self.send_frame("error", {"code": int(code), "message": str(message), **extra})

    # --- heartbeat, idle timeout and presence -----------------------------------------------
    async def _watch(self) -> None:
        idle_limit = settings.IM_WS_IDLE_TIMEOUT_S
        refresh_every = settings.IM_PRESENCE_TTL_S / 3
        tick = max(0.05, min(refresh_every, idle_limit / 3))
        last_refresh = time.monotonic()
        while True:
            await asyncio.sleep(tick)
            now = time.monotonic()
            if now - self.last_frame_at > idle_limit:
                await self.close(code=CLOSE_IDLE)
                return
            if now - last_refresh >= refresh_every and self.user is not None:
                last_refresh = now
                try:
                    await presence_store().refresh(self.user.pk, self.channel_name)
                except Exception:
                    logger.exception("refreshing the presence of user %s failed", self.user.pk)

    async def _announce_presence(self, status: int, *, user_id: int | None = None) -> None:
        user_id = user_id if user_id is not None else self.user.pk
        recipients = await run_sync(_online_friends, user_id)
        if recipients:
            await push_now(recipients, "presence", {"user_id": user_id, "online_status": status})


def _online_friends(user_id: int) -> list[int]:
    return sorted(online_user_ids(friend_ids(user_id)))
