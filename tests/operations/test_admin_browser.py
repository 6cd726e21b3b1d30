"""Staff moderate through the Django admin in headless Chromium, against a real server process.

The ban takes effect at once: the user's open socket is closed (4001), their token is refused and
they can no longer log in over the API.
"""

from collections.abc import Iterator

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.support.browser import browser  # noqa: F401  (a fixture)
from tests.support.server import ServerProcess, sqlite_server

pytestmark = pytest.mark.requires_browser

PASSWORD = "demo1234"  # seed_demo's


@pytest.fixture
def seeded_server(tmp_path) -> Iterator[ServerProcess]:
    server = sqlite_server(tmp_path)
    server.seed_demo()
    server.start()
    yield server
    server.stop()


def login(server: ServerProcess, username: str) -> tuple[int, dict]:
    return server.request("POST", "/login", {"username": username, "password": PASSWORD})


def test_staff_bans_a_user_in_the_admin_and_the_api_refuses_them(seeded_server, browser):  # noqa: F811
    server = seeded_server
    status, body = login(server, "bob")
    assert (status, body["code"]) == (200, 20000)
    token = body["data"]["access_token"]
    driver = browser()

    # API users are not staff: bob cannot get into the admin.
    admin_login(driver, server, "bob")
    wait_for(driver, ".errornote")

    with connect(f"ws://127.0.0.1:{server.port}/ws?token={token}", open_timeout=10) as socket:
        admin_login(driver, server, "admin")
        run_user_action(driver, server, "bob", "ban_users")
        # His open socket is closed at once, with 4001.
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                socket.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4001

    # His token is dead and his login refused; the others are untouched.
    status, body = server.request("GET", "/user/profile", token=token)
    assert (status, body["code"]) == (401, 40001)
    status, body = login(server, "bob")
    assert (status, body["code"]) == (403, 40003)
    assert login(server, "alice")[1]["code"] == 20000

    # Unbanning lets him in again.
    run_user_action(driver, server, "bob", "unban_users")
    assert login(server, "bob")[1]["code"] == 20000


def wait_for(driver, selector: str) -> None:
    WebDriverWait(driver, 15).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, selector))
    )


def admin_login(driver, server: ServerProcess, username: str) -> None:
    driver.get(f"{server.base_url}/admin/login/?next=/admin/")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    if username == "admin":
        wait_for(driver, "#user-tools")


def run_user_action(driver, server: ServerProcess, username: str, action: str) -> None:
    """Search the user list, tick the one row found, run ``action``, wait for its message."""
    driver.get(f"{server.base_url}/admin/accounts/user/?q={username}")
    rows = driver.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    assert len(rows) == 1 and username in rows[0].text
    rows[0].find_element(By.CSS_SELECTOR, "input.action-select").click()
    Select(driver.find_element(By.NAME, "action")).select_by_value(action)
    driver.find_element(By.CSS_SELECTOR, "button[name=index]").click()
    wait_for(driver, ".messagelist .success")


def test_admin_pages_of_every_model_open_for_staff(seeded_server, browser):  # noqa: F811
    """Each registered model's list and (read-only where it must be) detail page render."""
    server = seeded_server
    driver = browser()
    admin_login(driver, server, "admin")
    links = [
        a.get_attribute("href")
        for a in driver.find_elements(By.CSS_SELECTOR, "#content-main tr[class^=model-] th a")
    ]
    assert len(links) >= 10, links
    for link in links:
        driver.get(link)
        assert driver.find_elements(By.ID, "changelist"), link
        assert "Server Error" not in driver.title and "500" not in driver.title, link
        first = driver.find_elements(By.CSS_SELECTOR, "#result_list tbody tr th a")
        if first:
            detail = first[0].get_attribute("href")
            driver.get(detail)
            assert driver.find_elements(By.ID, "content-main"), link
