"""The server's settings for ``make bench``: production settings with one difference.

Account creation hashes passwords with MD5 instead of PBKDF2, so that the benchmark can create
its ~1,000 users through the real API in seconds rather than many minutes. Passwords are hashed
only by ``/register``, ``/login`` and ``/user/update/password``, none of which is on the paths
being measured (sending, delivery, connecting with a token).
"""

from imserver.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
