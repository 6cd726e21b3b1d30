"""The web client's single page at ``/``.

Everything else the client needs is static (served by WhiteNoise from ``webclient/static``) or
the public REST API and ``/ws``. The page needs no login and is plain HTML, not an envelope;
any method but GET/HEAD answers the usual 405 envelope.

The page carries a Content-Security-Policy (``imserver.csp``): its modules and stylesheet come
from this origin, it talks only to this host (REST and ``/ws``), and no inline script runs, so
an injected message or nickname cannot read the tokens the client keeps in ``localStorage``.
"""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from imserver.api.errors import ErrorCode, error_body
from imserver.csp import add_policy, webclient_policy


def index(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        response = JsonResponse(
            error_body(ErrorCode.BAD_REQUEST, _("Method not allowed")),
            status=405,
            json_dumps_params={"ensure_ascii": False},
        )
        response["Allow"] = "GET, HEAD"
        return response
    return add_policy(render(request, "webclient/index.html"), webclient_policy(request))
