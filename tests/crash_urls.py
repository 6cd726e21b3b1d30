"""The real URL table plus two views that fail, to exercise the 50000 path end to end."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from imserver import urls as real_urls


class CrashingApiView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError("secret internal detail from an API view")


def crashing_django_view(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("secret internal detail from a plain view")


urlpatterns = [
    path("__crash/api", CrashingApiView.as_view()),
    path("__crash/plain", crashing_django_view),
    *real_urls.urlpatterns,
]
handler500 = real_urls.handler500
