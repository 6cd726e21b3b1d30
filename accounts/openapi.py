"""Accounts in the OpenAPI schema (``/api/schema``): the bearer token scheme, the "auth" tag, and
schema-only serializers, the shapes of ``data`` that the views build as plain dicts; nothing
serializes with them. ``accounts/apps.py`` imports this module, so drf-spectacular knows the
extension before a schema is built.
"""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework import serializers

from accounts.serializers import UserSerializer
from groups.serializers import GroupSerializer
from imserver.api.schema import tag_paths

tag_paths("auth", "register", "login", "refresh_token", "logout")


class BearerTokenExtension(OpenApiAuthenticationExtension):
    """The JWT access token of ``/login`` in ``Authorization: Bearer <token>``."""

    target_class = "accounts.authentication.TokenVersionJWTAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, Any]:
        return build_bearer_security_scheme_object("Authorization", "Bearer", "JWT")


class TokenPairSerializer(serializers.Serializer[Any]):
    access_token = serializers.CharField(help_text="JWT, 2 h by default")
    refresh_token = serializers.CharField(help_text="JWT, 7 days; single use (rotated)")


class PasswordChangedSerializer(TokenPairSerializer):
    message = serializers.CharField()


class SearchResultSerializer(serializers.Serializer[Any]):
    groups = GroupSerializer(many=True)
    totalGroups = serializers.IntegerField()
    totalUsers = serializers.IntegerField()
    users = UserSerializer(many=True)
