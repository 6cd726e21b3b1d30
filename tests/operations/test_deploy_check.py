"""Production settings: ``manage.py check --deploy`` passes with no warning but the documented,
silenced ones (CI runs it too: .ci/run), and the HTTPS settings follow the environment."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent.parent

# The environment the settings read; removed so the test's own settings do not leak in.
OWN = {
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "DJANGO_SETTINGS_MODULE",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "SECURE_SSL_REDIRECT",
    "IM_PROXY_SSL_HEADER",
}
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "chat.example.com",
}


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if key not in OWN}
    return subprocess.run(
        [sys.executable, *args],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def settings_of(env: dict[str, str]) -> dict:
    code = (
        "import django, json, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'imserver.settings'; "
        "django.setup(); from django.conf import settings as s; print(json.dumps({name: "
        "getattr(s, name, None) for name in ('SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', "
        "'SECURE_HSTS_SECONDS', 'SECURE_PROXY_SSL_HEADER', 'SECURE_SSL_REDIRECT', "
        "'SILENCED_SYSTEM_CHECKS')}))"
    )
    result = run(["-c", code], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_check_deploy_is_clean_with_production_settings():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues (3 silenced)" in result.stdout


def test_check_deploy_fails_on_an_undocumented_warning():
    """E.g. cookies sent over plain HTTP in production: the check (and CI) fail."""
    env = {**PRODUCTION, "SESSION_COOKIE_SECURE": "0"}
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode != 0
    assert "security.W012" in result.stderr


def test_production_defaults_and_development_defaults():
    production = settings_of(PRODUCTION)
    assert production["SESSION_COOKIE_SECURE"] is True
    assert production["CSRF_COOKIE_SECURE"] is True
    assert production["SECURE_HSTS_SECONDS"] == 31536000
    assert production["SECURE_PROXY_SSL_HEADER"] is None  # opt-in only
    assert production["SECURE_SSL_REDIRECT"] is False
    assert set(production["SILENCED_SYSTEM_CHECKS"]) == {
        "security.W005",
        "security.W008",
        "security.W021",
    }
    development = settings_of({"DEBUG": "1"})
    assert development["SESSION_COOKIE_SECURE"] is False
    assert development["CSRF_COOKIE_SECURE"] is False
    assert development["SECURE_HSTS_SECONDS"] == 0


def test_https_settings_follow_the_environment():
    configured = settings_of(
        {
            **PRODUCTION,
            "IM_PROXY_SSL_HEADER": "1",
            "SECURE_HSTS_SECONDS": "600",
            "SECURE_SSL_REDIRECT": "1",
            "CSRF_COOKIE_SECURE": "0",
        }
    )
    assert configured["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert configured["SECURE_HSTS_SECONDS"] == 600
    assert configured["SECURE_SSL_REDIRECT"] is True
    assert configured["CSRF_COOKIE_SECURE"] is False


@pytest.mark.django_db
def test_hsts_behind_a_proxy_that_says_https(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 31536000
    client = Client()  # a new client: the middleware reads its settings when it is built
    secure = client.get("/livez", HTTP_X_FORWARDED_PROTO="https")
    assert secure["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in client.get("/livez")  # plain HTTP: never
