from typing import Any

from django.core.validators import RegexValidator, URLValidator
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.models import User
from imserver.api.fields import DisplayNameField, IdField, TrimmedCharField, UnixTimestampField

USERNAME_VALIDATOR = RegexValidator(
    r"^[A-Za-z0-9_.\-]+$",
    _("only letters, digits, '_', '-' and '.' are allowed"),
)


def password_field(**kwargs: Any) -> serializers.CharField:
    # Passwords are taken verbatim: no trimming, any characters.
    return serializers.CharField(trim_whitespace=False, **kwargs)


def avatar_field(**kwargs: Any) -> serializers.CharField:
    return TrimmedCharField(
        max_length=500,
        allow_blank=True,
        validators=[URLValidator(schemes=["http", "https"], message=_("must be an http(s) URL"))],
        **kwargs,
    )


class UserSerializer(serializers.ModelSerializer[User]):
    """The user object of API.md 2.1, 2.2 and 3.1."""

    create_at = UnixTimestampField(source="created_at")
    update_at = UnixTimestampField(source="updated_at")

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "nickname",
            "avatar",
            "status",
            "create_at",
            "update_at",
        ]
        read_only_fields = fields


class RegisterInputSerializer(serializers.Serializer[Any]):
    username = TrimmedCharField(min_length=3, max_length=20, validators=[USERNAME_VALIDATOR])
    password = password_field(min_length=6, max_length=50)
    email = serializers.EmailField(max_length=254)
    nickname = DisplayNameField(max_length=50, required=False, allow_blank=True, default="")
    avatar = avatar_field(required=False, default="")


class LoginInputSerializer(serializers.Serializer[Any]):
    username = TrimmedCharField(max_length=254)
    password = password_field(max_length=128)


class RefreshTokenInputSerializer(serializers.Serializer[Any]):
    refresh_token = TrimmedCharField(max_length=4096)


class LogoutInputSerializer(RefreshTokenInputSerializer):
    all_devices = serializers.BooleanField(
        default=False, help_text="true: revoke every token of the user and close their sockets"
    )


class UpdateInfoInputSerializer(serializers.Serializer[Any]):
    nickname = DisplayNameField(max_length=50, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False)
    avatar = avatar_field(required=False)


class UpdatePasswordInputSerializer(serializers.Serializer[Any]):
    old_password = password_field(max_length=128)
    new_password = password_field(min_length=6, max_length=50)


class UserIdQuerySerializer(serializers.Serializer[Any]):
    user_id = IdField()


class SearchQuerySerializer(serializers.Serializer[Any]):
    keyword = TrimmedCharField(min_length=1, max_length=50)
