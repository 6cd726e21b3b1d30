"""A real daphne server and headless Chromium sessions (Debian's chromium + chromedriver)."""

from collections.abc import Iterator

import pytest

from tests.support.browser import browser  # noqa: F401  (a fixture)
from tests.support.server import ServerProcess, sqlite_server


@pytest.fixture
def im_server(tmp_path) -> Iterator[ServerProcess]:
    server = sqlite_server(tmp_path)
    server.start()
    yield server
    server.stop()
