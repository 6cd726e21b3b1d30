"""``GET /healthz`` for load balancers (CONTRACT 9): database, channel layer and storage;
``GET /livez``: the process answers, nothing else.

Each check really uses its service: a query, a message sent to and received from a fresh channel
of the channel layer, a small object written, read back and deleted in the file storage. A failure
is named in ``data`` as ``"error: <ExceptionClass>"`` (the details go to the log only).

Both need no token, so anyone may call them. ``/healthz`` therefore answers from its last result
for ``IM_HEALTHZ_CACHE_S`` seconds in each process, and concurrent callers of an expired result
wait for one round of checks instead of starting their own: a flood costs at most one round per
interval and process (three storage requests, one query, one channel-layer round trip).
``/livez`` touches no backing service at all.
"""

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import Callable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from imserver.api.errors import AppError, ErrorCode
from imserver.api.schema import responses

logger = logging.getLogger("imserver.health")

OK = "ok"
CHANNEL_LAYER_TIMEOUT_S = 2.0
STORAGE_PROBE_PREFIX = "healthz/"


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


async def _channel_layer_round_trip() -> None:
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")
    channel = await layer.new_channel()  # the default prefix: see realtime/fanout.py
    token = uuid.uuid4().hex
    await layer.send(channel, {"type": "healthz.probe", "token": token})
    message = await layer.receive(channel)
    if message.get("token") != token:
        raise RuntimeError("the channel layer returned another message")


def check_channel_layer() -> None:
    async def bounded() -> None:
        await asyncio.wait_for(_channel_layer_round_trip(), CHANNEL_LAYER_TIMEOUT_S)

    async_to_sync(bounded)()


def check_storage() -> None:
    storage = storages["default"]
    payload = uuid.uuid4().hex.encode()
    name = storage.save(f"{STORAGE_PROBE_PREFIX}{payload.decode()}", ContentFile(payload))
    try:
        with storage.open(name, "rb") as handle:
            if handle.read() != payload:
                raise RuntimeError("the storage returned other bytes")
    finally:
        storage.delete(name)


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "channel_layer": check_channel_layer,
    "storage": check_storage,
}


def run_checks() -> dict[str, str]:
    """``{"database": "ok", "channel_layer": "error: ConnectionRefusedError", ...}``."""
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:
            logger.warning("health check %s failed", name, exc_info=exc)
            results[name] = f"error: {type(exc).__name__}"
        else:
            results[name] = OK
    return results


class _CachedResults:
    """The last results of ``run_checks`` in this process and when they were taken."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._results: dict[str, str] | None = None
        self._taken_at = 0.0

    def get(self) -> dict[str, str]:
        max_age = settings.IM_HEALTHZ_CACHE_S
        if max_age <= 0:
            return run_checks()
        # One thread runs the checks; the others wait on the lock, then find them fresh. The
        # checks are bounded (database connect timeout, channel layer 2 s).
        with self._lock:
            if self._results is None or time.monotonic() - self._taken_at >= max_age:
                self._results = run_checks()
                self._taken_at = time.monotonic()
            return dict(self._results)

    def clear(self) -> None:
        with self._lock:
            self._results = None


_cached_results = _CachedResults()


def clear_health_cache() -> None:
    """Forget the last results (tests, after changing a backing service's settings)."""
    _cached_results.clear()


_HEALTH_DATA = inline_serializer(
    "HealthData",
    fields={name: serializers.CharField(help_text='"ok" or "error: ..."') for name in CHECKS},
)


class HealthView(APIView):
    """No authentication: load balancers call it."""

    authentication_classes: list[type[BaseAuthentication]] = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Health of the database, the channel layer and the file storage",
        responses=responses(_HEALTH_DATA, 503, error_data=_HEALTH_DATA),
    )
    def get(self, request: Request) -> Response:
        results = _cached_results.get()
        if all(state == OK for state in results.values()):
            return Response(results)
        raise AppError(ErrorCode.SERVICE_UNAVAILABLE, data=results)


class LiveView(APIView):
    """No authentication, no backing service: the process is up and serves requests. For a
    liveness probe (restart the process when it fails); ``/healthz`` is the readiness probe."""

    authentication_classes: list[type[BaseAuthentication]] = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="The server process is alive (no backing service is checked)",
        responses=responses(
            inline_serializer(
                "LiveData", fields={"process": serializers.CharField(help_text='always "ok"')}
            )
        ),
    )
    def get(self, request: Request) -> Response:
        return Response({"process": OK})
