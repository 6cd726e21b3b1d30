"""Headless Chromium for browser tests: Debian's chromium and chromedriver, never a download.

Use ``from tests.support.browser import browser`` in a conftest to get the ``browser`` fixture.
"""

import os
import tempfile
from collections.abc import Callable, Iterator

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture
def browser() -> Iterator[Callable[[], object]]:
    """``browser()`` opens a new headless Chromium (its own profile: a separate user)."""
    os.environ["SE_OFFLINE"] = "1"  # Selenium Manager must never download anything
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    drivers = []
    profiles = []

    def open_browser():
        profile = tempfile.TemporaryDirectory(prefix="im-chromium-")
        profiles.append(profile)
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in (
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1200,800",
            f"--user-data-dir={profile.name}",
        ):
            options.add_argument(argument)
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        driver.set_page_load_timeout(20)
        driver.set_script_timeout(20)
        drivers.append(driver)
        return driver

    yield open_browser
    for driver in drivers:
        driver.quit()
    for profile in profiles:
        profile.cleanup()
