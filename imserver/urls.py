from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from imserver.api.handlers import UnknownPathView
from imserver.health import HealthView, LiveView
from imserver.metrics_view import MetricsView
from webclient.views import index as webclient_index

urlpatterns = [
    path("admin/", admin.site.urls),
    # OpenAPI 3 (YAML; JSON with ?format=json) and Swagger UI served from the sidecar, no CDN.
    path("api/schema", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("healthz", HealthView.as_view(), name="healthz"),
    path("livez", LiveView.as_view(), name="livez"),
    path("metrics", MetricsView.as_view(), name="metrics"),
    path("", include("accounts.urls")),
    path("", include("social.urls")),
    path("", include("groups.urls")),
    path("", include("notifications.urls")),
    path("", include("files.urls")),
    path("", include("chat.urls")),
    path("", webclient_index, name="webclient"),
    re_path(r"^", UnknownPathView.as_view()),
]

handler400 = "imserver.api.handlers.bad_request"
handler403 = "imserver.api.handlers.permission_denied"
handler404 = "imserver.api.handlers.page_not_found"
handler500 = "imserver.api.handlers.server_error"
