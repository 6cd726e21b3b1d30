from django.contrib import admin
from django.urls import include, path, re_path

from imserver.api.handlers import UnknownPathView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),
    path("", include("social.urls")),
    path("", include("groups.urls")),
    path("", include("notifications.urls")),
    path("", include("files.urls")),
    path("", include("chat.urls")),
    re_path(r"^", UnknownPathView.as_view()),
]

handler400 = "imserver.api.handlers.bad_request"
handler403 = "imserver.api.handlers.permission_denied"
handler404 = "imserver.api.handlers.page_not_found"
handler500 = "imserver.api.handlers.server_error"
