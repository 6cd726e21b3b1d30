"""Rate limits of the group writes that reach other users or create rows at will (issue 20):
5.1 create, 5.8 invite, 5.9 join and 5.5 update, each counted per user in a fixed window and
refused with 42900 and ``Retry-After`` (``imserver.api.throttling.RateLimit``); off with
``IM_THROTTLE=0``. The views count a request once its input is valid, before the service runs,
so a refused request writes and pushes nothing, and a malformed one (40000) costs nothing.

The settings are read from the environment like every other limit. Until they are declared in
``imserver/settings.py`` beside the other ``IM_RATE_*``, ``install_setting_defaults`` (run by
the app's ``ready()``) fills in any that is missing, so each is always defined.
"""

import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from imserver.api.throttling import RateLimit, parse_rate

# "count/period" (period s, min, h or day), per user.
RATE_SETTING_DEFAULTS: dict[str, str] = {
    "IM_RATE_GROUP_CREATE_PER_USER": "30/h",
    "IM_RATE_GROUP_INVITE_PER_USER": "60/h",
    "IM_RATE_GROUP_JOIN_PER_USER": "30/h",
    "IM_RATE_GROUP_UPDATE_PER_USER": "60/h",
}

group_creations_by_user = RateLimit("group-create-user", "IM_RATE_GROUP_CREATE_PER_USER")
group_invites_by_user = RateLimit("group-invite-user", "IM_RATE_GROUP_INVITE_PER_USER")
group_joins_by_user = RateLimit("group-join-user", "IM_RATE_GROUP_JOIN_PER_USER")
group_updates_by_user = RateLimit("group-update-user", "IM_RATE_GROUP_UPDATE_PER_USER")


def install_setting_defaults() -> None:
    """Define each missing setting from its environment variable or default, and refuse to
    start with a rate that does not parse (rather than answer 500 on the first request)."""
    for name, default in RATE_SETTING_DEFAULTS.items():
        if not hasattr(settings, name):
            setattr(settings, name, os.environ.get(name, default))
        try:
            parse_rate(getattr(settings, name))
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name}: {exc}") from exc
