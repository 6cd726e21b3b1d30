"""The ``/ws`` connection: pushes out, client frames in (CONTRACT 7 and 12; docs/realtime.md).

The consumer answers ``ping`` and ``auth`` itself; every other frame type goes to the handler an
app registered for it (``realtime.frames``), and the ``presence`` push to the audiences the apps
registered there.

Close codes: 4001 missing, invalid, expired or revoked token (also when the token expires while
connected, or the user is banned, deactivated, changes the password or logs out everywhere);
4008 silent for longer than ``IM_WS_IDLE_TIMEOUT_S``; 4029 more than
``IM_WS_MAX_CONNECTIONS_PER_USER`` sockets of one user; 4011 the channel layer failed while
connecting; 1009 a frame over ``IM_WS_MAX_FRAME_BYTES``. The server override
``imserver.overrides.daphne_limits`` holds the frame limit in the protocol layer and adds 4009
(slow consumer); without it, this consumer checks the frame size itself.

No client input raises out of this consumer, and whatever ends a socket (a close either way, an
exception, a cancelled task) runs ``_leave``: out of the registry, the push group and presence,
with the offline ``presence`` push when it was the user's last socket.
"""

import asyncio
import contextlib
import contextvars
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext, trans_real
from rest_framework.exceptions import APIException, AuthenticationFailed

from accounts.authentication import user_for_validated_token
from accounts.models import User
from imserver import metrics
from imserver.api.errors import ErrorCode, invalid_parameter_message
from imserver.api.exceptions import backing_service_error, code_and_message
from imserver.api.json_limits import BAD_UNICODE, TOO_DEEP, JsonRefused, loads_checked
from imserver.logs import current_socket_log, log_handshake
from imserver.overrides.lanes import run_sync
from imserver.publish import push_now
from realtime.fanout import local_sockets
from realtime.frames import presence_audience, registered_frame
from realtime.presence import OFFLINE, ONLINE, keep_fresh, online_user_ids, presence_store
from realtime.sessions import (
    Grant,
    ensure_session_checker,
    grant_for,
    token_renewal,
)

logger = logging.getLogger("realtime")

CLOSE_UNAUTHORIZED = 4001
CLOSE_IDLE = 4008
CLOSE_TOO_MANY_CONNECTIONS = 4029
CLOSE_TOO_BIG = 1009
# Autobahn sends only 1000 and 3000-4999 from the server side (1011 raises instead of closing),
# so a failed backing service closes with 4011, "1011" in the application's own range.
CLOSE_SERVER_ERROR = 4011


def language_from_scope(scope: dict[str, Any]) -> str:
    for name, value in scope.get("headers", []):
        if name == b"accept-language":
            for code, _quality in trans_real.parse_accept_lang_header(value.decode("latin1")):
                try:
                    return translation.get_supported_language_variant(code)
                except LookupError:
                    continue
    return settings.LANGUAGE_CODE


def _frame_too_big(raw: str | bytes) -> bool:
    """For a protocol layer that does not hold the limit itself (daphne without the
    ``daphne_limits`` override)."""
    limit: int = settings.IM_WS_MAX_FRAME_BYTES
    if isinstance(raw, str):
        return len(raw) > limit or (len(raw) * 4 > limit and len(raw.encode()) > limit)
    return len(raw) > limit


class FrameBucket:
    """``rate`` frames a second with a burst of ``rate``; what goes beyond is dropped."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.tokens = float(rate)
        self.updated = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def _refusal_text(refused: JsonRefused) -> str:
    if refused.reason == TOO_DEEP:
        return gettext("JSON nested too deeply")
    if refused.reason == BAD_UNICODE:
        return gettext("invalid Unicode")
    return gettext("malformed JSON frame")


class ClientConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]  # channels ships no types
    # No channel of its own: pushes reach the socket through its loop's listener
    # (``realtime.fanout.LocalSockets``), which calls ``push_text`` and ``session_revoke``.
    channel_layer_alias = "im.socket-has-no-channel"
    user: User | None = None
    grant: Grant | None = None
    watcher: asyncio.Task[None] | None = None
    # What _leave has to undo: in the registry (so in the push group), a presence entry.
    registered = False
    in_presence = False
    # Pushes are sent once the socket is accepted and counted; until then they wait here.
    ready = False
    # Frames read and not yet handled, the task handling them, and what a full queue awaits
    # (``_queue_frame``); None while no frame waits.
    frames: list[tuple[str | None, dict[str, Any]]] | None = None
    frame_task: asyncio.Task[None] | None = None
    frame_room: asyncio.Future[None] | None = None
    revoked = False  # a revocation arrived before the socket was ready
    closing = False
    left = False

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        # This socket's entry in presence, unique in the cluster.
        self.presence_id = uuid.uuid4().hex
        self.waiting_pushes: list[str] = []
        try:
            await super().__call__(scope, receive, send)
        finally:
            if self.frame_task is not None:
                self.frame_task.cancel()
            await self._leave(None)

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' dispatch without its ``aclose_old_connections()`` before every frame and
        every push (this consumer touches the database only through ``run_sync``, which closes
        old connections on its lane), and with every failure contained: a failed handler is
        logged, the client gets an ``error`` frame for its frame, and the socket stays open."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        try:
            await handler(message)
        except StopConsumer:
            raise
        except Exception:
            logger.exception(
                "socket %s of user %s: %s failed",
                self.presence_id,
                self._user_id(),
                message["type"],
            )
            if message["type"] == "websocket.connect":
                await self._close(CLOSE_SERVER_ERROR)
            elif message["type"] == "websocket.receive":
                await self._internal_error()
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            # Cancelled meanwhile (the server's shutdown), and something the handler awaited
            # caught the cancellation instead of letting it through: stop all the same, so that
            # ``_leave`` runs now rather than never.
            raise asyncio.CancelledError

    def _user_id(self) -> int | None:
        return self.grant.user_id if self.grant is not None else None

    # --- connecting and leaving ---------------------------------------------------------------
    async def connect(self) -> None:
        self.language = language_from_scope(self.scope)
        self.last_frame_at = time.monotonic()
        self.buckets: dict[str, FrameBucket] = {}
        refusal = await self._authenticate()
        if refusal is None and self.revoked:
            refusal = CLOSE_UNAUTHORIZED
        # Accepted in every case, so that a refusal reaches the client as a close code.
        await self.accept()
        log_handshake(101)
        if refusal is not None:
            logger.info("socket refused with %d", refusal)
            await self._close(refusal)
            return
        assert self.user is not None  # _authenticate read the user when it refused nothing
        user_id: int = self.user.pk
        connections = await self._count_connection(user_id)
        if connections is not None and connections > settings.IM_WS_MAX_CONNECTIONS_PER_USER:
            logger.info("socket refused with %d", CLOSE_TOO_MANY_CONNECTIONS)
            await self._close(CLOSE_TOO_MANY_CONNECTIONS)
            return
        while self.waiting_pushes:
            await self.send(text_data=self.waiting_pushes.pop(0))
        if self.revoked:
            await self._close(CLOSE_UNAUTHORIZED)
            return
        self.ready = True
        registry = local_sockets()
        ensure_session_checker(registry)
        if registry.presence_refresher is None or registry.presence_refresher.done():
            registry.presence_refresher = asyncio.create_task(
                keep_fresh(registry.presence_entries), context=contextvars.Context()
            )
        logger.info(
            "socket %s of user %s open (sockets in this process: %d)",
            self.presence_id,
            user_id,
            registry.open_count,
        )
        self.watcher = asyncio.create_task(self._watch())
        if connections == 1:
            await self._announce_presence(ONLINE, user_id)

    async def _authenticate(self) -> int | None:
        """Check the handshake's token and register the socket (its user's pushes reach it
        from then on); the close code of a refusal, or None. The user is read after that: a
        revocation committed before that read is seen by it, one committed after it is pushed
        to the socket."""
        raw_token = self.scope.get("token")
        try:
            self.grant, token = grant_for(raw_token) if raw_token else (None, None)
        except AuthenticationFailed:
            self.grant = None
        if self.grant is None:
            return CLOSE_UNAUTHORIZED
        socket_log = current_socket_log()
        if socket_log is not None:  # from here on the connection's lines name its user
            socket_log.user_id = self.grant.user_id
        try:
            await local_sockets().add(self.grant.user_id, self)
        except Exception:
            logger.exception("joining the push group of user %s failed", self.grant.user_id)
            metrics.CHANNEL_LAYER_ERRORS.inc()
            return CLOSE_SERVER_ERROR
        self.registered = True
        try:
            self.user = await run_sync(user_for_validated_token, token)
        except AuthenticationFailed:
            return CLOSE_UNAUTHORIZED
        except Exception:
            logger.exception("reading user %s for a socket failed", self.grant.user_id)
            return CLOSE_SERVER_ERROR
        return None

    async def _count_connection(self, user_id: int) -> int | None:
        """This socket's presence entry; the user's live sockets in the cluster with it, or
        None when presence is unavailable (the socket works without it, uncounted)."""
        try:
            connections = await presence_store().connect(user_id, self.presence_id)
        except Exception:
            logger.exception("registering the presence of user %s failed", user_id)
            return None
        self.in_presence = True
        return connections

    async def disconnect(self, code: int) -> None:
        if self.frame_task is not None:  # the frames the client sent before it closed
            with contextlib.suppress(Exception):  # logged where it was raised
                await self.frame_task
        await self._leave(code)

    async def _leave(self, code: int | None) -> None:
        """Undo what ``connect`` did, once, however the socket ended (``code`` None: by an
        exception or cancellation rather than a close)."""
        if self.left:
            return
        self.left = True
        self.ready = False
        if self.watcher is not None:
            self.watcher.cancel()
        user_id = self._user_id()
        # Registered and in presence only after a grant was read, so with a user id.
        if self.registered and user_id is not None:
            registry = local_sockets()
            await registry.remove(user_id, self)
            logger.info(
                "socket %s of user %s closed with %s (sockets in this process: %d)",
                self.presence_id,
                user_id,
                code if code is not None else "an error",
                registry.open_count,
            )
        if self.in_presence and user_id is not None:
            try:
                last = await presence_store().disconnect(user_id, self.presence_id)
                if last:
                    await self._announce_presence(OFFLINE, user_id)
            except Exception:
                logger.exception("clearing the presence of user %s failed", user_id)
        self.user = None

    async def _close(self, code: int) -> None:
        """Close once; frames that still arrive before the client's answer are ignored."""
        if not self.closing:
            self.closing = True
            await self.close(code=code)

    # --- server -> client ---------------------------------------------------------------------
    async def push_text(self, text: str) -> None:
        """A ``publish_on_commit`` event for this user (from the loop's listener)."""
        if self.ready:
            await self.send(text_data=text)
        elif not self.left:
            self.waiting_pushes.append(text)

    async def session_revoke(self, message: dict[str, Any]) -> None:
        """Every token of the user older than ``token_version`` was revoked."""
        grant = self.grant
        if grant is None or message["token_version"] <= (grant.token_version or 0):
            return
        if self.ready:
            await self._close(CLOSE_UNAUTHORIZED)
        else:  # closed with 4001 as soon as it is accepted
            self.revoked = True

    async def recheck(self, state: tuple[int, bool] | None) -> None:
        """The periodic session check: ``state`` is the user's (token version, may hold a
        session), or None for a deleted user."""
        grant = self.grant
        if grant is None or self.closing or not self.ready:
            return
        if state is None or not state[1] or state[0] != grant.token_version:
            await self._close(CLOSE_UNAUTHORIZED)

    async def send_frame(self, frame_type: str, data: dict[str, Any]) -> None:
        # Every client string was checked for lone surrogates on arrival (loads_checked), so
        # the text encodes as UTF-8.
        await self.send(
            text_data=json.dumps({"type": frame_type, "data": data}, ensure_ascii=False)
        )

    # --- client -> server ---------------------------------------------------------------------
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.user is None or self.closing:
            return
        raw = text_data if text_data is not None else bytes_data or b""
        if _frame_too_big(raw):
            await self._close(CLOSE_TOO_BIG)
            return
        self.last_frame_at = time.monotonic()
        with translation.override(self.language):
            parsed = self._parsed(raw)
        if isinstance(parsed, str):  # refused: answered in turn, after the frames before it
            await self._queue_frame(None, {"code": int(ErrorCode.BAD_REQUEST), "message": parsed})
        elif not self._over_rate(parsed[0]):
            await self._queue_frame(*parsed)

    def _parsed(self, raw: str | bytes) -> tuple[str, dict[str, Any]] | str:
        """A frame's type and data, or the message that refuses it (in the client's language)."""
        try:
            frame = loads_checked(raw)
        except JsonRefused as refused:
            return str(invalid_parameter_message(_refusal_text(refused)))
        frame_type = frame.get("type") if isinstance(frame, dict) else None
        if not isinstance(frame_type, str) or self._handler(frame_type) is None:
            return str(invalid_parameter_message(gettext("unknown frame type"), "type"))
        data = frame.get("data")
        if data is None:
            data = {}
        if not isinstance(data, dict):
            return str(invalid_parameter_message(gettext("must be an object"), "data"))
        return frame_type, data

    async def _queue_frame(self, frame_type: str | None, data: dict[str, Any]) -> None:
        """One task per socket handles its frames in order (``_handle_frames``) while the next
        ones are read, so that consecutive frames of a type with a batch handler (``message``)
        are handled together. At most ``IM_WS_FRAMES_AHEAD`` wait: with that many, the next
        frame is read only once the task has taken them. ``frame_type`` None: ``data`` is the
        ``error`` frame that refuses a malformed one."""
        while (
            self.frames is not None
            and len(self.frames) >= settings.IM_WS_FRAMES_AHEAD
            and not self.closing
        ):
            self.frame_room = asyncio.get_running_loop().create_future()
            await self.frame_room
        if self.closing:
            return
        if self.frames is None:  # made while frames wait: an idle socket holds none of this
            self.frames = []
        self.frames.append((frame_type, data))
        if self.frame_task is None or self.frame_task.done():
            self.frame_task = asyncio.create_task(self._handle_frames())

    async def _handle_frames(self) -> None:
        """Until no frame waits. What waits when the socket closes from this side is dropped; a
        client's close lets everything it sent before be handled (``disconnect``)."""
        try:
            with translation.override(self.language):
                while self.frames and not self.closing:
                    frame_type, batch = self._take_frames(self.frames)
                    self._make_room()
                    await self._handle(frame_type, batch)
        finally:  # also when cancelled
            self.frames = None  # what waits is dropped; an idle socket keeps no list
            self.frame_task = None  # nor a finished task
            self._make_room()

    @staticmethod
    def _take_frames(
        frames: list[tuple[str | None, dict[str, Any]]],
    ) -> tuple[str | None, list[dict[str, Any]]]:
        """The first waiting frame, with the frames of its type right behind it when the type
        has a batch handler."""
        frame_type, data = frames.pop(0)
        batch = [data]
        frame = registered_frame(frame_type) if frame_type is not None else None
        if frame is not None and frame.batch is not None:
            while frames and frames[0][0] == frame_type:
                batch.append(frames.pop(0)[1])
        return frame_type, batch

    async def _handle(self, frame_type: str | None, batch: list[dict[str, Any]]) -> None:
        """One frame, or a batch of one type (``_take_frames``); a failure is logged and
        answered as an internal error, and the frames behind it are handled all the same."""
        try:
            if frame_type is None:
                await self.send_frame("error", batch[0])
            elif len(batch) > 1:
                frame = registered_frame(frame_type)
                assert frame is not None and frame.batch is not None  # so it was taken
                await frame.batch(self, batch)
            else:
                handler = self._handler(frame_type)
                assert handler is not None  # checked before it was queued
                await handler(batch[0])
        except Exception:
            logger.exception(
                "socket %s of user %s: a %s frame failed",
                self.presence_id,
                self._user_id(),
                frame_type,
            )
            if not self.closing:
                # A stock server raises on a send after the client left.
                with contextlib.suppress(Exception):
                    await self._internal_error()

    def _make_room(self) -> None:
        if self.frame_room is not None and not self.frame_room.done():
            self.frame_room.set_result(None)

    def _handler(self, frame_type: str) -> Callable[[dict[str, Any]], Awaitable[None]] | None:
        """The consumer's own frames, then those the apps registered (``realtime.frames``)."""
        if frame_type == "ping":
            return self._on_ping
        if frame_type == "auth":
            return self._on_auth
        frame = registered_frame(frame_type)
        if frame is None:
            return None
        return lambda data: frame.handler(self, data)

    def _over_rate(self, frame_type: str) -> bool:
        """A frame beyond its type's rate on this socket, dropped without an answer."""
        frame = registered_frame(frame_type)
        if frame is None or frame.per_second is None:
            return False
        bucket = self.buckets.get(frame_type)
        if bucket is None:
            bucket = self.buckets[frame_type] = FrameBucket(frame.per_second())
        return not bucket.take()

    async def _on_ping(self, data: dict[str, Any]) -> None:
        await self.send_frame("pong", {})

    async def _on_auth(self, data: dict[str, Any]) -> None:
        # Frames are read only on a socket whose user and grant were read (``receive``).
        assert self.user is not None and self.grant is not None
        user_id = self.user.pk
        grant: Grant | None = await self.call(
            lambda _user, data: token_renewal(user_id, data), data
        )
        if grant is None:
            return
        if grant.expires_at < self.grant.expires_at:
            await self._error(
                invalid_parameter_message(
                    gettext("expires earlier than the token of this connection"), "token"
                )
            )
            return
        self.grant = grant
        await self.send_frame("auth", {"expires_at": grant.expires_at})

    async def run(self, function: Callable[..., Any], data: Any) -> Any:
        """``function(user, data)`` on a lane in the client's language; raises what it raised."""
        language = self.language
        user = self.user

        def run() -> Any:
            with translation.override(language):
                return function(user, data)

        return await run_sync(run)

    async def call(self, function: Callable[..., Any], data: dict[str, Any], **echo: Any) -> Any:
        """``run``, where a refusal or a failure becomes an ``error`` frame carrying ``echo``,
        and None is returned."""
        try:
            return await self.run(function, data)
        except Exception as exc:
            await self.refuse(exc, **echo)
        return None

    async def refuse(self, error: Exception, **echo: Any) -> None:
        refusal = error if isinstance(error, APIException) else backing_service_error(error)
        if refusal is None:
            logger.error("frame from user %s failed", self._user_id(), exc_info=error)
            await self._internal_error(**echo)
            return
        with translation.override(self.language):
            code, message = code_and_message(refusal)
        await self._error(message, code=code, **echo)

    async def _internal_error(self, **echo: Any) -> None:
        with translation.override(self.language):
            await self._error(gettext("Internal server error"), code=ErrorCode.SERVER_ERROR, **echo)

    async def _error(
        self, message: str, *, code: int = ErrorCode.BAD_REQUEST, **extra: Any
    ) -> None:
        await self.send_frame("error", {"code": int(code), "message": str(message), **extra})

    # --- token expiry, idle timeout and presence ----------------------------------------------
    async def _watch(self) -> None:
        idle_limit = settings.IM_WS_IDLE_TIMEOUT_S
        while not self.closing:
            # Set before this task starts; a renewal replaces it, nothing clears it.
            assert self.grant is not None
            expires_in = self.grant.expires_at - time.time()
            wake_in = self.last_frame_at + idle_limit - time.monotonic()
            await asyncio.sleep(max(0.05, min(wake_in, expires_in)))
            if time.time() >= self.grant.expires_at:
                await self._close(CLOSE_UNAUTHORIZED)
                return
            if time.monotonic() - self.last_frame_at > idle_limit:
                await self._close(CLOSE_IDLE)
                return

    async def _announce_presence(self, status: int, user_id: int) -> None:
        recipients = await run_sync(_presence_recipients, user_id)
        if recipients:
            await push_now(recipients, "presence", {"user_id": user_id, "online_status": status})


def _presence_recipients(user_id: int) -> list[int]:
    """The online users of the registered presence audiences (social: friends, except those in a
    block with the user either way, CONTRACT 12)."""
    return sorted(online_user_ids(presence_audience(user_id)))
