"""The development secret key: random, made on first use, kept in a file outside git.

Only used with ``DEBUG`` on and ``SECRET_KEY`` unset (see ``imserver/settings.py``): production
refuses to start without ``SECRET_KEY``. Imported by the settings, so nothing here may need
Django to be set up.
"""

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def development_secret_key(path: Path) -> str:
    """The key stored in ``path``; generated first when the file does not exist.

    The file is written complete under a temporary name (mode 0600: readable by this user
    only) and then linked to ``path``, which fails if ``path`` exists: so processes starting
    at once (``imserver.serve --workers N``) all end up with the one key that won, and none
    ever reads a half-written file.
    """
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(50)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(key + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process made it first: use its key
        finally:
            temporary.unlink()
        return _read(path)
    except OSError as error:
        raise ImproperlyConfigured(
            f"DEBUG is on and SECRET_KEY is not set, and the development key file {path} "
            f"could not be created ({error}). Set SECRET_KEY, or IM_DEV_SECRET_FILE to a "
            "writable path."
        ) from error


def _read(path: Path) -> str:
    key = path.read_text(encoding="utf-8").strip()
    if len(key) < 32:
        raise ImproperlyConfigured(
            f"The development key file {path} holds no usable key: delete it to make a new one."
        )
    return key
