"""Content-Security-Policy headers for the two HTML surfaces: the web client at ``/`` and the
admin at ``/admin/`` (docs/security.md "Content-Security-Policy").

Both allow scripts and stylesheets from this origin only: no inline ``<script>``, no ``eval``,
no inline ``<style>``, no plugins, no ``<base>``, no framing; the admin allows no ``style``
attribute either, the web client does (see ``webclient_policy``). So markup
injected into either page (a message, a nickname) cannot run script, and the web client's tokens
in ``localStorage`` can only be read by the client's own modules. JSON answers carry no policy:
a browser never renders them as a document that could run script.
"""

from typing import TypeVar

from django.http import HttpRequest, HttpResponseBase

HEADER = "Content-Security-Policy"

_Response = TypeVar("_Response", bound=HttpResponseBase)

# Shared by both pages. form-action 'self': a form cannot post credentials to another site.
_BASE = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)


def webclient_policy(request: HttpRequest) -> str:
    """The client's policy: REST with ``fetch`` and ``/ws`` of this very host (``ws:`` and
    ``wss:`` named, since ``'self'`` does not cover the WebSocket schemes in every browser).
    Images from anywhere: avatars are URLs users choose, and files are shown from ``blob:``
    URLs the client makes of authenticated downloads. ``get_host()`` is validated against
    ``ALLOWED_HOSTS``, so no header text can be smuggled in through ``Host``."""
    host = request.get_host()
    return "; ".join(
        (
            *_BASE,
            # style="..." attributes only (no <style> element, no stylesheet from elsewhere):
            # dom.js sets an avatar's colour with setAttribute("style", "--hue:..."). Setting
            # it through el.style.setProperty instead would let this line go.
            "style-src-attr 'unsafe-inline'",
            "img-src * data: blob:",
            f"connect-src 'self' ws://{host} wss://{host}",
        )
    )


# The admin's pages only load its own static files (icons are SVG files, a few data: URLs).
ADMIN_POLICY = "; ".join((*_BASE, "img-src 'self' data:", "connect-src 'self'"))


def add_policy(response: _Response, policy: str) -> _Response:
    """Set ``policy`` unless the view chose its own."""
    if HEADER not in response:
        response[HEADER] = policy
    return response
