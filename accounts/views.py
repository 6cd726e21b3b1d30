"""Section 1-3 endpoints. Each action: validate, call one service or selector, return data."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import selectors, services
from accounts.authentication import AuthenticatedRequest
from accounts.openapi import PasswordChangedSerializer, SearchResultSerializer, TokenPairSerializer
from accounts.serializers import (
    LoginInputSerializer,
    LogoutInputSerializer,
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
from imserver.api.schema import ConfirmationSerializer, page_parameters, responses
from imserver.api.throttling import client_ip
from imserver.api.validation import validated


class AuthViewSet(viewsets.ViewSet):
    """Register, login, refresh and logout: no access token needed (nor looked at)."""

    authentication_classes: list[type[BaseAuthentication]] = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="1.1 Register",
        request=RegisterInputSerializer,
        responses=responses(ConfirmationSerializer, 409),
    )
    def register(self, request: Request) -> Response:
        data = validated(RegisterInputSerializer, request.data)
        services.user_register(**data, ip=client_ip(request))
        return Response({"message": _("Registered successfully")})

    @extend_schema(
        summary="1.2 Log in (username or email in `username`)",
        request=LoginInputSerializer,
        responses=responses(TokenPairSerializer, 401, 403),
    )
    def login(self, request: Request) -> Response:
        data = validated(LoginInputSerializer, request.data)
        return Response(services.user_login(**data, ip=client_ip(request)))

    @extend_schema(
        summary="1.3 Refresh: a new pair; the used refresh token is blacklisted",
        request=RefreshTokenInputSerializer,
        responses=responses(TokenPairSerializer, 401, 403),
    )
    def refresh(self, request: Request) -> Response:
        data = validated(RefreshTokenInputSerializer, request.data)
        return Response(services.token_refresh(**data, ip=client_ip(request)))

    @extend_schema(
        summary=(
            "Log out (an addition): blacklist the refresh token; with `all_devices` revoke "
            "every token of the user and close their sockets"
        ),
        request=LogoutInputSerializer,
        responses=responses(ConfirmationSerializer, 401),
    )
    def logout(self, request: Request) -> Response:
        services.token_logout(**validated(LogoutInputSerializer, request.data))
        return Response({"message": _("Logged out")})


class UserViewSet(viewsets.ViewSet):
    @extend_schema(summary="2.1 My profile", responses=responses(UserSerializer))
    def profile(self, request: AuthenticatedRequest) -> Response:
        return Response(UserSerializer(request.user).data)

    @extend_schema(
        summary="2.2 A user's info",
        parameters=[UserIdQuerySerializer],
        responses=responses(UserSerializer, 404),
    )
    def info(self, request: Request) -> Response:
        data = validated(UserIdQuerySerializer, request.query_params)
        return Response(UserSerializer(selectors.user_get(**data)).data)

    @extend_schema(
        summary="2.3 Update my info (partial)",
        request=UpdateInfoInputSerializer,
        responses=responses(ConfirmationSerializer, 409),
    )
    def update_info(self, request: AuthenticatedRequest) -> Response:
        data = validated(UpdateInfoInputSerializer, request.data)
        services.user_update_info(user=request.user, **data)
        return Response({"message": _("Updated successfully")})

    @extend_schema(
        summary="2.4 Change my password: every older token is revoked; a fresh pair returned",
        request=UpdatePasswordInputSerializer,
        responses=responses(PasswordChangedSerializer),
    )
    def update_password(self, request: AuthenticatedRequest) -> Response:
        data = validated(UpdatePasswordInputSerializer, request.data)
        tokens = services.user_change_password(user=request.user, **data, ip=client_ip(request))
        return Response({"message": _("Password changed successfully"), **tokens})


class SearchViewSet(viewsets.ViewSet):
    @extend_schema(
        summary="3.1 Search users and groups",
        parameters=[SearchQuerySerializer, *page_parameters(default=20, maximum=100)],
        responses=responses(SearchResultSerializer),
    )
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
