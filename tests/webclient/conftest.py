"""A real daphne server and headless Chromium sessions (Debian's chromium + chromedriver)."""

from collections.abc import Iterator

import pytest

from tests.support.browser import browser  # noqa: F401  (a fixture)
from tests.support.server import ServerProcess


@pytest.fixture
def im_server(tmp_path) -> Iterator[ServerProcess]:
    server = ServerProcess(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'webclient.sqlite3'}",
            "IM_MEDIA_ROOT": str(tmp_path / "media"),
            "IM_THROTTLE": "0",
        }
    )
    server.migrate()
    server.start()
    yield server
    server.stop()
