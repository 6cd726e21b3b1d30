"""Content-Security-Policy on the web client page and the admin; the client works under it in
headless Chromium with no violation reported (issue 20, "Production")."""

from collections.abc import Iterator

import pytest
from django.test import Client
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.browser import browser  # noqa: F401  (a fixture)
from tests.support.server import ServerProcess, sqlite_server
from tests.webclient.pages import ChatPage


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


@pytest.mark.django_db
def test_the_web_client_page_allows_only_its_own_scripts_styles_and_host():
    response = Client().get("/", HTTP_HOST="localhost")
    policy = directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]  # no inline script, no eval, no CDN
    assert policy["style-src"] == ["'self'"]  # stylesheets; style="" attributes are allowed:
    assert policy["style-src-attr"] == ["'unsafe-inline'"]  # avatars' colours (dom.js)
    assert policy["default-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'", "ws://localhost", "wss://localhost"]
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["form-action"] == ["'self'"]
    assert "<script>" not in response.content.decode()  # nothing inline that would need a hash


@pytest.mark.django_db
def test_the_admin_pages_carry_a_policy(staff_client):
    for client, url in (
        (Client(), "/admin/login/"),
        (staff_client, "/admin/"),
        (staff_client, "/admin/accounts/user/"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        policy = directives(response["Content-Security-Policy"])
        assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"], url
    # JSON answers need none (a browser does not run them as a page).
    assert "Content-Security-Policy" not in Client().get("/livez")


# --- in a real browser ------------------------------------------------------------------------

# Installed before any of the page's scripts run, so every violation is recorded.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const where = `${event.sourceFile}:${event.lineNumber}`;
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI} ${where}`);
});
"""


@pytest.fixture
def im_server(tmp_path) -> Iterator[ServerProcess]:
    server = sqlite_server(tmp_path)
    server.seed_demo()
    server.start()
    yield server
    server.stop()


def recording_browser(browser):  # noqa: F811
    driver = browser()
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_VIOLATIONS})
    return driver


def violations(driver) -> list[str]:
    return driver.execute_script("return window.__cspViolations || []")


@pytest.mark.requires_browser
def test_the_web_client_runs_under_its_policy(im_server, browser):  # noqa: F811
    base = f"http://127.0.0.1:{im_server.port}"
    alice = ChatPage(recording_browser(browser), base).open()
    alice.login("alice", "demo1234")
    assert alice.driver.execute_script(
        "return document.querySelector('[data-testid=app]') !== null"
    )
    # The socket connected (connect-src allows ws: of this host) and the page drew its lists,
    # avatars and conversations without a single blocked script, style or connection.
    assert alice.connection_state() == "open"
    assert violations(alice.driver) == []


@pytest.mark.requires_browser
def test_the_admin_runs_under_its_policy(im_server, browser):  # noqa: F811
    base = f"http://127.0.0.1:{im_server.port}"
    driver = recording_browser(browser)
    driver.get(base + "/admin/login/")
    driver.find_element(By.NAME, "username").send_keys("admin")
    driver.find_element(By.NAME, "password").send_keys("demo1234")
    driver.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(driver, 15).until(lambda d: "/admin/login/" not in d.current_url)
    for path in ("/admin/", "/admin/accounts/user/", "/admin/accounts/user/1/change/"):
        driver.get(base + path)
        assert violations(driver) == [], path
