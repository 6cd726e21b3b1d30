"""Shared pieces of the apps' admin classes."""

from typing import Any

from django.http import HttpRequest


class ViewOnlyAdminMixin:
    """Staff may list, search, filter and open rows, never add, edit or delete them: these rows
    are written by the services only (pushes, counters and sequence numbers stay consistent)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
