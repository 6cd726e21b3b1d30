"""Test settings: the real settings (DATABASE_URL / REDIS_URL honoured) with a fast hasher."""

import os

os.environ.setdefault("SECRET_KEY", "insecure-test-secret-key-for-the-test-suite-only")

from imserver.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
