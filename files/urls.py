from django.urls import path

from files.views import FileViewSet

urlpatterns = [
    path("file/upload", FileViewSet.as_view({"post": "upload"})),
    path("file/download", FileViewSet.as_view({"get": "download"})),
    path("file/delete", FileViewSet.as_view({"delete": "remove"})),
    path("file/info", FileViewSet.as_view({"get": "info"})),
    path("file/record", FileViewSet.as_view({"get": "record"})),
]
