"""``GET /metrics``: the Prometheus exposition of imserver/metrics.py, for the operator's scraper.

Served to a client whose address is in ``IM_METRICS_ALLOW`` (loopback by default) or that sends
``Authorization: Bearer <IM_METRICS_TOKEN>``; anyone else gets 40003 (HTTP 403). The address is
``REMOTE_ADDR`` as daphne gives it: the peer's, or under ``--proxy-headers`` the first address of
``X-Forwarded-For`` (the reverse proxy overwrites that header, docs/deployment.md). No user
authentication runs and no rate limit applies; the view is left out of the OpenAPI schema, which
describes the client API.
"""

import hmac
from collections.abc import Iterable, Sequence
from ipaddress import ip_address, ip_network

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework.authentication import BaseAuthentication
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.permissions import BasePermission
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from imserver import metrics
from imserver.api.errors import AppError, ErrorCode

BEARER = "bearer "


def address_allowed(address: str | None) -> bool:
    if not address:
        return False
    try:
        client = ip_address(address)
    except ValueError:  # "unknown", a Unix socket's path
        return False
    if client.version == 6 and client.ipv4_mapped is not None:
        client = client.ipv4_mapped
    return any(client in ip_network(block, strict=False) for block in settings.IM_METRICS_ALLOW)


def token_matches(authorization: str) -> bool:
    expected = settings.IM_METRICS_TOKEN
    if not expected or authorization[: len(BEARER)].lower() != BEARER:
        return False
    return hmac.compare_digest(authorization[len(BEARER) :].strip().encode(), expected.encode())


class MetricsReader(BasePermission):
    def has_permission(self, request: Request, view: object) -> bool:
        if token_matches(request.META.get("HTTP_AUTHORIZATION", "")):
            return True
        if address_allowed(request.META.get("REMOTE_ADDR")):
            return True
        raise AppError(ErrorCode.FORBIDDEN)


class FirstRenderer(BaseContentNegotiation):
    """The envelope renderer for a refusal, whatever ``Accept`` says: a scraper asking for
    ``text/plain`` only must get its 403, not a 406. A scrape's own format follows ``Accept``
    (``metrics.render``)."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


class MetricsView(APIView):
    authentication_classes: Sequence[type[BaseAuthentication]] = ()
    permission_classes = [MetricsReader]
    content_negotiation_class = FirstRenderer

    @extend_schema(exclude=True)
    def get(self, request: Request) -> HttpResponse:
        body, content_type = metrics.render(request.META.get("HTTP_ACCEPT", ""))
        return HttpResponse(body, content_type=content_type)
