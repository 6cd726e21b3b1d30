"""Section 1-3 endpoints. Each action: validate, call one service or selector, return data."""

from django.utils.translation import gettext as _
from rest_framework import viewsets
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import selectors, services
from accounts.serializers import (
    LoginInputSerializer,
    RefreshTokenInputSerializer,
    RegisterInputSerializer,
    SearchQuerySerializer,
    UpdateInfoInputSerializer,
    UpdatePasswordInputSerializer,
    UserIdQuerySerializer,
    UserSerializer,
)
from groups.selectors import group_search
from groups.serializers import GroupSerializer
from imserver.api.pagination import page_from_request
from imserver.api.throttling import client_ip
from imserver.api.validation import validated


class AuthViewSet(viewsets.ViewSet):
    """Register, login, refresh and logout: no access token needed (nor looked at)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def register(self, request: Request) -> Response:
        data = validated(RegisterInputSerializer, request.data)
        services.user_register(**data, ip=client_ip(request))
        return Response({"message": _("Registered successfully")})

    def login(self, request: Request) -> Response:
        data = validated(LoginInputSerializer, request.data)
        return Response(services.user_login(**data, ip=client_ip(request)))

    def refresh(self, request: Request) -> Response:
        data = validated(RefreshTokenInputSerializer, request.data)
        return Response(services.token_refresh(**data))

    def logout(self, request: Request) -> Response:
        services.token_logout(**validated(RefreshTokenInputSerializer, request.data))
        return Response({"message": _("Logged out")})


class UserViewSet(viewsets.ViewSet):
    def profile(self, request: Request) -> Response:
        return Response(UserSerializer(request.user).data)

    def info(self, request: Request) -> Response:
        data = validated(UserIdQuerySerializer, request.query_params)
        return Response(UserSerializer(selectors.user_get(**data)).data)

    def update_info(self, request: Request) -> Response:
        data = validated(UpdateInfoInputSerializer, request.data)
        services.user_update_info(user=request.user, **data)
        return Response({"message": _("Updated successfully")})

    def update_password(self, request: Request) -> Response:
        data = validated(UpdatePasswordInputSerializer, request.data)
        tokens = services.user_change_password(user=request.user, **data)
        return Response({"message": _("Password changed successfully"), **tokens})


class SearchViewSet(viewsets.ViewSet):
    def search(self, request: Request) -> Response:
        keyword = validated(SearchQuerySerializer, request.query_params)["keyword"]
        page = page_from_request(request, default_size=20, max_size=100)
        users = selectors.user_search(keyword=keyword)
        groups = group_search(keyword=keyword)
        return Response(
            {
                "groups": GroupSerializer(page.slice(groups), many=True).data,
                "totalGroups": groups.count(),
                "totalUsers": users.count(),
                "users": UserSerializer(page.slice(users), many=True).data,
            }
        )
