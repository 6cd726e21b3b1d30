"""The socket's session (CONTRACT 12): the client refreshes its access token ahead of expiry and
extends its open socket with an ``auth`` frame, so the socket never drops at expiry; after 4001
it reconnects only with a fresh token (or shows the login screen when the refresh is refused);
after 4029 it waits instead of reconnecting in a loop.

The counts come from the client's test hook (``window.__imTest.socketStats()``: connection
attempts, opens, close codes, auth frames and their answers) and from the server's log (a line
per socket opened or closed, and the access log of ``POST /refresh_token``).
"""

import contextlib
import json
import re
import time
from collections.abc import Iterator

import pytest
from websockets.sync.client import connect

from tests.support.server import ServerProcess, sqlite_server
from tests.webclient.pages import ChatPage, css

pytestmark = pytest.mark.requires_browser

PASSWORD = "secret123"
LIFETIME_S = 12  # the short access token lifetime of the first test


def _start(tmp_path, **env: str) -> Iterator[ServerProcess]:
    server = sqlite_server(tmp_path, **env)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def short_lived_server(tmp_path) -> Iterator[ServerProcess]:
    yield from _start(tmp_path, IM_ACCESS_TOKEN_LIFETIME_S=str(LIFETIME_S))


def _register(server: ServerProcess, username: str) -> int:
    body = {"username": username, "password": PASSWORD, "email": f"{username}@example.com"}
    assert server.request("POST", "/register", body)[1]["code"] == 20000
    return server.request("GET", "/user/profile", token=_login(server, username))[1]["data"]["id"]


def _login(server: ServerProcess, username: str, password: str = PASSWORD) -> str:
    _status, body = server.request("POST", "/login", {"username": username, "password": password})
    assert body["code"] == 20000, body
    return body["data"]["access_token"]


def _befriend(server: ServerProcess, asking: str, answering_id: int, answering: str) -> None:
    body = {"to_user_id": answering_id}
    request = server.request("POST", "/friend/request/send", body, _login(server, asking))
    handle = {"request_id": request[1]["data"]["request_id"], "action": 2}
    assert (
        server.request("POST", "/friend/request/handle", handle, _login(server, answering))[1][
            "code"
        ]
        == 20000
    )


def _stats(page: ChatPage) -> dict:
    return page.driver.execute_script("return window.__imTest.socketStats()")


def _sockets_opened(server: ServerProcess, user_id: int) -> int:
    return len(re.findall(rf"socket \S+ of user {user_id} open", server.output()))


def _sockets_closed(server: ServerProcess, user_id: int) -> list[str]:
    return re.findall(rf"socket \S+ of user {user_id} closed with (\S+)", server.output())


def _refreshes(server: ServerProcess) -> list[str]:
    """The HTTP status of every ``POST /refresh_token`` so far."""
    return re.findall(r"POST /refresh_token (\d{3})", server.output())


def _run_in_page(page: ChatPage, body: str):
    """Run ``body`` (async JS, with ``api`` = the page's own api.js module) and return its value."""
    script = """
        const done = arguments[arguments.length - 1];
        const app = document.querySelector('script[type="module"]').src;
        import(new URL("api.js", app).href)
          .then(async (api) => { BODY })
          .then((value) => done(value ?? null), (error) => done("failed: " + error));
    """
    return page.driver.execute_async_script(script.replace("BODY", body))


def test_the_socket_outlives_many_access_tokens_in_two_tabs(short_lived_server, browser):
    server = short_lived_server
    alice_id = _register(server, "alice")
    bob_id = _register(server, "bob")
    _befriend(server, "bob", alice_id, "alice")

    # Alice has two tabs of one browser: they share the tokens, and both refresh ahead of expiry.
    driver = browser()
    alice = ChatPage(driver, server.base_url).open()
    alice.login("alice")
    first_tab = driver.current_window_handle
    driver.switch_to.new_window("tab")
    ChatPage(driver, server.base_url).open().wait_connected()
    second_tab = driver.current_window_handle
    driver.switch_to.window(first_tab)
    alice.open_friend_chat(bob_id)
    started = time.monotonic()

    # Bob writes every 7 s for more than three lifetimes of Alice's access tokens; each message
    # is shown at once (a push: the socket is never reopened, so there is no catching up).
    n = 0
    while time.monotonic() - started < 3.5 * LIFETIME_S:
        n += 1
        body = {"to_user_id": alice_id, "chat_type": 0, "type": 0, "content": f"tick {n}"}
        assert server.request("POST", "/chat/send", body, _login(server, "bob"))[1]["code"] == 20000
        alice.wait(lambda n=n: alice.message_now(f"tick {n}"), timeout=3)
        time.sleep(7)
    elapsed = time.monotonic() - started

    for tab in (first_tab, second_tab):
        driver.switch_to.window(tab)
        stats = _stats(alice)
        assert stats["attempts"] == 1 and stats["opens"] == 1, stats
        assert stats["closes"] == [], stats
        # A refresh every half lifetime, each extending the socket with its new token.
        assert stats["authOk"] >= 5 and stats["authRefused"] == 0, stats
        assert stats["expiresAt"] == sorted(set(stats["expiresAt"])), stats
        assert stats["expiresAt"][-1] > time.time(), stats
        assert alice.connection_state() == "open"

    # The server saw two sockets of Alice's open and none closed, and one rotation per refresh
    # period for both tabs together (the tabs take turns, none rotates a used refresh token).
    assert _sockets_opened(server, alice_id) == 2
    assert _sockets_closed(server, alice_id) == []
    refreshes = _refreshes(server)
    assert set(refreshes) == {"200"}, refreshes
    assert len(refreshes) <= elapsed / (LIFETIME_S / 2) + 2, refreshes


def test_a_rest_refresh_extends_the_socket_and_tabs_refreshing_at_once_rotate_once(
    im_server, browser
):
    _register(im_server, "alice")
    driver = browser()
    alice = ChatPage(driver, im_server.base_url).open()
    alice.login("alice")
    first_tab = driver.current_window_handle

    # A REST call refused with 40001 (here: a spoiled access token) refreshes the pair, retries,
    # and the open socket is extended with the new access token.
    spoiled = """
        localStorage.setItem("im.access_token", "spoiled");
        return (await api.get("/user/profile")).username;
    """
    assert _run_in_page(alice, spoiled) == "alice"
    alice.wait(lambda: _stats(alice)["authOk"] == 1, message="no auth answer")
    assert _refreshes(im_server) == ["200"]

    # Two windows refresh at the same instant: one rotation, the other window takes its pair.
    driver.switch_to.new_window("window")  # not a tab: a hidden tab's timers are throttled
    second = ChatPage(driver, im_server.base_url).open()
    second.wait_connected()
    second_tab = driver.current_window_handle
    at_ms = int(time.time() * 1000) + 1500
    for tab in (first_tab, second_tab):
        driver.switch_to.window(tab)
        _run_in_page(
            alice,
            f"""
            window.__race = null;
            setTimeout(() => api.refreshTokens().then(
              () => {{ window.__race = "ok"; }}, (e) => {{ window.__race = "failed " + e; }},
            ), {at_ms} - Date.now());
            """,
        )
    for tab in (first_tab, second_tab):
        driver.switch_to.window(tab)
        alice.wait(lambda: driver.execute_script("return window.__race") is not None)
        assert driver.execute_script("return window.__race") == "ok"
        assert alice.connection_state() == "open"
        # The socket of each tab is extended to the one new pair.
        alice.wait(lambda: _stats(alice)["authOk"] >= 1, message="no auth answer")
        assert _stats(alice)["authRefused"] == 0
    assert _refreshes(im_server) == ["200", "200"]
    assert _run_in_page(alice, 'return (await api.get("/user/profile")).username;') == "alice"


def test_a_tab_that_has_not_yet_seen_another_tabs_rotation_takes_its_pair(im_server, browser):
    """localStorage reaches other tabs a few ms late, possibly after the refresh lock has passed
    on: the rotating tab records {used, pair} in IndexedDB, and the next one takes that pair."""
    _register(im_server, "alice")
    alice = ChatPage(browser(), im_server.base_url).open()
    alice.login("alice")

    # "Another tab" rotates the pair this tab holds, and only its record is visible yet.
    used = alice.driver.execute_script("return localStorage.getItem('im.refresh_token')")
    _status, body = im_server.request("POST", "/refresh_token", {"refresh_token": used})
    pair = body["data"]
    recorded = _run_in_page(
        alice,
        """
        const rotation = ROTATION;
        await new Promise((resolve, reject) => {
          const open = indexedDB.open("im.tokens", 1);
          open.onupgradeneeded = () => open.result.createObjectStore("rotation");
          open.onsuccess = () => {
            const tx = open.result.transaction("rotation", "readwrite");
            tx.objectStore("rotation").put(rotation, "last");
            tx.oncomplete = () => { open.result.close(); resolve(); };
            tx.onerror = () => reject(tx.error);
          };
        });
        await api.refreshTokens();
        return localStorage.getItem("im.access_token");
        """.replace("ROTATION", json.dumps({"used": used, "pair": pair})),
    )
    assert recorded == pair["access_token"]
    assert _refreshes(im_server) == ["200"]  # only the other tab's: no reuse of the used token
    alice.wait(lambda: _stats(alice)["authOk"] == 1, message="no auth answer")
    assert _run_in_page(alice, 'return (await api.get("/user/profile")).username;') == "alice"


def test_a_password_changed_elsewhere_closes_the_socket_and_shows_the_login(im_server, browser):
    alice_id = _register(im_server, "alice")
    alice = ChatPage(browser(), im_server.base_url).open()
    alice.login("alice")

    # Another client changes the password: every token of Alice's is revoked, her socket closed
    # with 4001; the client's refresh is refused, so it shows the login instead of reconnecting.
    change = {"old_password": PASSWORD, "new_password": "changed456"}
    token = _login(im_server, "alice")
    assert im_server.request("PUT", "/user/update/password", change, token)[1]["code"] == 20000
    alice.find(css("auth"))
    stats = _stats(alice)
    assert stats["closes"] == [4001] and stats["attempts"] == 1, stats
    assert alice.driver.execute_script("return localStorage.getItem('im.refresh_token')") is None
    assert _sockets_closed(im_server, alice_id) == ["4001"]

    # The form stays as the user fills it (nothing redraws it), no socket is tried again.
    alice.fill("auth-username", "alice")
    time.sleep(2)
    assert alice.find(css("auth-username")).get_attribute("value") == "alice"
    assert _stats(alice)["attempts"] == 1
    assert _sockets_opened(im_server, alice_id) == 1

    alice.fill("auth-password", "changed456")
    alice.click(css("auth-submit"))
    alice.wait_connected()
    assert _stats(alice)["attempts"] == 1  # a new session's socket
    assert _sockets_opened(im_server, alice_id) == 2


def test_too_many_sockets_wait_long_then_reconnect_with_a_fresh_token(im_server, browser):
    alice_id = _register(im_server, "alice")
    token = _login(im_server, "alice")
    url = f"ws://127.0.0.1:{im_server.port}/ws?token={token}"
    with contextlib.ExitStack() as stack:
        # The cap, IM_WS_MAX_CONNECTIONS_PER_USER, held by ten sockets of another client.
        others = [stack.enter_context(connect(url)) for _ in range(10)]
        for ws in others:
            ws.send('{"type": "ping"}')
            assert '"pong"' in ws.recv(timeout=5)

        alice = ChatPage(browser(), im_server.base_url).open()
        alice.fill("auth-username", "alice")
        alice.fill("auth-password", PASSWORD)
        alice.click(css("auth-submit"))
        alice.find(css("main"))
        alice.wait(lambda: (_stats(alice) or {}).get("closes") == [4029], message="no 4029")
        access = alice.driver.execute_script("return localStorage.getItem('im.access_token')")

        # No reconnecting in a loop: one attempt in all of the next 8 s.
        time.sleep(8)
        assert _stats(alice)["attempts"] == 1
        assert alice.connection_state() == "offline"
        assert _refreshes(im_server) == []

        # A place frees up: within 30-45 s the client refreshes its pair, then connects.
        others[0].close()
        alice.wait(lambda: alice.connection_state() == "open", timeout=60, message="not open")
        stats = _stats(alice)
        assert stats["attempts"] == 2 and stats["closes"] == [4029], stats
        assert _refreshes(im_server) == ["200"]
        fresh = alice.driver.execute_script("return localStorage.getItem('im.access_token')")
        assert fresh != access
        assert _sockets_opened(im_server, alice_id) == 11  # the ten, then the client's
