"""``django.contrib.admin`` with imserver's own default site (``imserver.admin_site``).

A module of its own: the app config is imported while apps load, before the admin site's
module (forms, models) may be imported.
"""

from django.contrib.admin.apps import AdminConfig


class IMAdminConfig(AdminConfig):
    default_site = "imserver.admin_site.IMAdminSite"
