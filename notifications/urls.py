"""Section 6: the friend half (6.1, 6.2) and the group half (6.3-6.5) keep their own tables."""

from django.urls import include, path

urlpatterns = [
    path("", include("notifications.urls_friend")),
    path("", include("notifications.urls_group")),
]
