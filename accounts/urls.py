from django.urls import path

from accounts.views import AuthViewSet, SearchViewSet, UserViewSet

urlpatterns = [
    path("register", AuthViewSet.as_view({"post": "register"})),
    path("login", AuthViewSet.as_view({"post": "login"})),
    path("refresh_token", AuthViewSet.as_view({"post": "refresh"})),
    path("logout", AuthViewSet.as_view({"post": "logout"})),
    path("user/profile", UserViewSet.as_view({"get": "profile"})),
    path("user/info", UserViewSet.as_view({"get": "info"})),
    path("user/update/info", UserViewSet.as_view({"put": "update_info"})),
    path("user/update/password", UserViewSet.as_view({"put": "update_password"})),
    path("search", SearchViewSet.as_view({"get": "search"})),
]
