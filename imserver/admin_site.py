"""The admin site (``/admin/``): staff who are not banned, a throttled login, a CSP on every page.

- Failed logins are counted per client address and per username (any case), apart from the
  API's counters; over either limit the login page answers HTTP 429 with ``Retry-After`` and an
  error on the page, and checks no password (a blocked guesser learns nothing, even from a right
  one, and costs no hash). ``IM_THROTTLE=0`` turns it off with the other limits.
- A banned user (``status`` 2) is refused at the login and loses an open admin session at the
  next request, whatever ``is_staff`` says.
"""

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from imserver import metrics
from imserver.api.throttling import FailureLimiter, client_ip
from imserver.csp import ADMIN_POLICY, add_policy

THROTTLED = "throttled"

_View = TypeVar("_View", bound=Callable[..., HttpResponseBase])

admin_login_failures_by_ip = FailureLimiter(
    "admin-login-ip", "IM_ADMIN_LOGIN_FAILURES_PER_IP", "IM_ADMIN_LOGIN_FAILURE_WINDOW_S"
)
admin_login_failures_by_username = FailureLimiter(
    "admin-login-username",
    "IM_ADMIN_LOGIN_FAILURES_PER_USERNAME",
    "IM_ADMIN_LOGIN_FAILURE_WINDOW_S",
)


def username_identity(username: str) -> str:
    """One counter per username whatever its case or surrounding spaces; hashed, so a key's
    length does not depend on what a client sends."""
    normalized = username.strip().casefold().encode("utf-8", "replace")
    return hashlib.sha256(normalized).hexdigest()


class StaffAuthenticationForm(AdminAuthenticationForm):
    """The admin's login form, counting failures and refusing banned users."""

    def clean(self) -> dict[str, Any]:
        assert self.request is not None  # the admin's login view passes its request
        ip = client_ip(self.request)
        username = username_identity(self.data.get("username") or "")
        if admin_login_failures_by_ip.is_blocked(ip) or admin_login_failures_by_username.is_blocked(
            username
        ):
            metrics.rate_limit_refused("admin-login-failure")
            raise ValidationError(
                _("Too many failed logins. Try again in %(seconds)d seconds."),
                code=THROTTLED,
                params={"seconds": admin_login_failures_by_ip.retry_after()},
            )
        try:
            return super().clean()
        except ValidationError:
            # Wrong password, unknown user, inactive, not staff, banned: all count.
            admin_login_failures_by_ip.record_failure(ip)
            admin_login_failures_by_username.record_failure(username)
            raise

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if getattr(user, "is_banned", False):
            # The same message as a wrong password: the page does not tell who is banned.
            raise ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


class IMAdminSite(admin.AdminSite):
    login_form = StaffAuthenticationForm

    def has_permission(self, request: HttpRequest) -> bool:
        """Active staff who are not banned (checked on every admin request)."""
        return super().has_permission(request) and not getattr(request.user, "is_banned", False)

    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().login(request, extra_context)
        context = getattr(response, "context_data", None)
        form = context and context.get("form")
        if form is not None and form.is_bound and form.has_error(NON_FIELD_ERRORS, THROTTLED):
            assert isinstance(response, TemplateResponse)
            response.status_code = 429
            response["Retry-After"] = str(admin_login_failures_by_ip.retry_after())
        return add_policy(response, ADMIN_POLICY)

    def admin_view(self, view: _View, cacheable: bool = False) -> _View:
        """Every other admin page (``login`` is the one the base class does not wrap)."""
        protected = super().admin_view(view, cacheable)

        @wraps(protected)  # keeps the attributes the base sets (csrf, admin_site)
        def with_policy(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            return add_policy(protected(request, *args, **kwargs), ADMIN_POLICY)

        # A view called as ``view`` is, as the base class's own wrapper is typed.
        return cast(_View, with_policy)
