"""Rate limits of the group writes that reach other users or create rows at will:
5.1 create, 5.8 invite, 5.9 join and 5.5 update, each counted per user in a fixed window and
refused with 42900 and ``Retry-After`` (``imserver.api.throttling.RateLimit``); off with
``IM_THROTTLE=0``. The views count a request once its input is valid, before the service runs,
so a refused request writes and pushes nothing, and a malformed one (40000) costs nothing.
The rates are settings (``IM_RATE_GROUP_*_PER_USER`` in imserver/settings.py).
"""

from imserver.api.throttling import RateLimit

group_creations_by_user = RateLimit("group-create-user", "IM_RATE_GROUP_CREATE_PER_USER")
group_invites_by_user = RateLimit("group-invite-user", "IM_RATE_GROUP_INVITE_PER_USER")
group_joins_by_user = RateLimit("group-join-user", "IM_RATE_GROUP_JOIN_PER_USER")
group_updates_by_user = RateLimit("group-update-user", "IM_RATE_GROUP_UPDATE_PER_USER")
