"""Configuration from the environment (CONTRACT 9)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def settings_probe(env: dict[str, str], expression: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DEBUG", "DATABASE_URL", "REDIS_URL"}
    }
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='imserver.settings'; "
        f"django.setup(); from django.conf import settings as s; print({expression})"
    )
    return subprocess.run(
        [sys.executable, "-c", code], env={**clean, **env}, cwd=ROOT, capture_output=True, text=True
    )


def test_production_refuses_the_default_secret_key():
    result = settings_probe({}, "s.SECRET_KEY")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_debug_allows_the_development_key_and_defaults_are_embedded():
    result = settings_probe(
        {"DEBUG": "1"},
        "s.DATABASES['default']['ENGINE'], s.CHANNEL_LAYERS['default']['BACKEND'], "
        "s.SIMPLE_JWT['ACCESS_TOKEN_LIFETIME'].total_seconds(), s.IM_MAX_MEMBER_COUNT",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "django.db.backends.sqlite3 channels.layers.InMemoryChannelLayer 7200.0 500"
    )


def test_environment_variables_are_honoured():
    result = settings_probe(
        {
            "SECRET_KEY": "x" * 50,
            "DATABASE_URL": "postgres://u:p@127.0.0.1:5432/imdb",
            "REDIS_URL": "redis://127.0.0.1:6379/3",
            "ALLOWED_HOSTS": "chat.example.com,api.example.com",
            "IM_ACCESS_TOKEN_LIFETIME_S": "60",
            "IM_THROTTLE": "0",
        },
        "s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME'], "
        "s.CHANNEL_LAYERS['default']['BACKEND'], s.CACHES['default']['BACKEND'], "
        "s.ALLOWED_HOSTS, s.SIMPLE_JWT['ACCESS_TOKEN_LIFETIME'].total_seconds(), s.IM_THROTTLE",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "django.db.backends.postgresql imdb channels_redis.pubsub.RedisPubSubChannelLayer "
        "django.core.cache.backends.redis.RedisCache ['chat.example.com', 'api.example.com'] "
        "60.0 False"
    )


@pytest.mark.parametrize(
    ("variable", "option", "value", "expected"),
    [
        ("DB_SERVER_SIDE_BINDING", "server_side_binding", None, "True"),
        ("DB_SERVER_SIDE_BINDING", "server_side_binding", "0", "False"),
        ("DB_PREPARED_STATEMENTS", "prepare_threshold", None, "5"),
        ("DB_PREPARED_STATEMENTS", "prepare_threshold", "0", "None"),
        ("DB_PREPARED_STATEMENTS", "prepare_threshold", "1", "5"),
    ],
)
def test_postgresql_binds_on_the_server_and_prepares_unless_turned_off(
    variable, option, value, expected
):
    env = {"DEBUG": "1", "DATABASE_URL": "postgres://u:p@127.0.0.1:5432/imdb"}
    if value is not None:
        env[variable] = value
    result = settings_probe(env, f"s.DATABASES['default']['OPTIONS'][{option!r}]")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


@pytest.mark.parametrize(
    ("choice", "backend"),
    [
        ("pubsub", "channels_redis.pubsub.RedisPubSubChannelLayer"),
        ("lists", "channels_redis.core.RedisChannelLayer"),
        ("carrier-pigeon", None),
    ],
)
def test_the_redis_channel_layer_is_chosen_with_im_channel_layer(choice, backend):
    result = settings_probe(
        {"DEBUG": "1", "REDIS_URL": "redis://127.0.0.1:6379/3", "IM_CHANNEL_LAYER": choice},
        "s.CHANNEL_LAYERS['default']['BACKEND']",
    )
    if backend is None:
        assert result.returncode != 0
        assert "IM_CHANNEL_LAYER must be" in result.stderr
    else:
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == backend
