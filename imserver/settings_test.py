"""Test settings: the real settings (DATABASE_URL / REDIS_URL honoured) with a fast hasher."""

import os

os.environ.setdefault("SECRET_KEY", "insecure-test-secret-key-for-the-test-suite-only")

# Under pytest-xdist, each worker's own Redis databases and channel-layer prefix (the workers
# share one Redis server), set before the settings read the environment.
from tests.support.redis_dbs import isolate_xdist_worker

isolate_xdist_worker()

from imserver.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
