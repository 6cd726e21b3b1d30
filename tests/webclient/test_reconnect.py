"""Alice's network drops while Bob keeps writing: her client reconnects by itself and fills the
gap with ``after_seq``; no message is lost or doubled. Also: unread badge and history paging."""

import time

import pytest

from tests.webclient.pages import ChatPage, css
from tests.webclient.proxy import CuttableProxy

pytestmark = pytest.mark.requires_browser

PASSWORD = "secret123"


def _api_user(server, username: str) -> tuple[int, str]:
    body = {"username": username, "password": PASSWORD, "email": f"{username}@example.com"}
    assert server.request("POST", "/register", body)[1]["code"] == 20000
    _status, login = server.request("POST", "/login", {"username": username, "password": PASSWORD})
    token = login["data"]["access_token"]
    return server.request("GET", "/user/profile", token=token)[1]["data"]["id"], token


@pytest.fixture
def proxy(im_server):
    proxy = CuttableProxy(im_server.port)
    yield proxy
    proxy.close()


def test_a_dropped_socket_reconnects_and_loses_nothing(im_server, browser, proxy):
    alice_id, alice_token = _api_user(im_server, "alice")
    bob_id, bob_token = _api_user(im_server, "bob")
    request = im_server.request("POST", "/friend/request/send", {"to_user_id": alice_id}, bob_token)
    request_id = request[1]["data"]["request_id"]
    handle = {"request_id": request_id, "action": 2}
    assert im_server.request("POST", "/friend/request/handle", handle, alice_token)[0] == 200
    for n in range(1, 26):
        body = {"to_user_id": alice_id, "chat_type": 0, "type": 0, "content": f"old {n}"}
        assert im_server.request("POST", "/chat/send", body, bob_token)[1]["code"] == 20000

    # Alice's browser reaches the server through a proxy that can cut her network.
    alice = ChatPage(browser(), proxy.base_url).open()
    alice.login("alice")
    bob = ChatPage(browser(), im_server.base_url).open()
    bob.login("bob")

    # The unread badge, then the newest page, then the older page on scrolling up.
    # The list is redrawn when presence changes: the row is looked up as it is now.
    row = css("conversation", f'[data-key="0:{bob_id}"]')
    alice.wait(lambda: alice.find(f"{row} {css('unread-badge')}").text == "25")
    alice.click(row)
    alice.wait(lambda: alice.seqs() == list(range(6, 26)))
    alice.driver.execute_script(
        "document.querySelector('[data-testid=message-list]').scrollTop = 0"
    )
    alice.wait(lambda: alice.seqs() == list(range(1, 26)))
    alice.find(css("history-start"))
    alice.wait(lambda: alice.first(css("unread-badge")) is None)

    bob.click(css("conversation", f'[data-key="0:{alice_id}"]'))
    bob.message_with_text("old 25")
    bob.send("before the outage")
    alice.message_with_text("before the outage")

    # The outage: every connection of Alice's is reset and new ones are refused for a while.
    alice.driver.execute_script("window.__sameDocument = true")
    proxy.cut()
    alice.wait(lambda: alice.connection_state() != "open", message="socket still open")
    for n in range(1, 4):
        bob.send(f"during the outage {n}")
    time.sleep(1.5)  # the pushes to Alice's old socket are gone for good
    assert not any(text.startswith("during") for text in alice.message_texts())
    assert alice.connection_state() != "open"

    # The network comes back: the client reconnects by itself and catches up.
    proxy.restore()
    alice.wait_connected()
    for n in range(1, 4):
        alice.message_with_text(f"during the outage {n}")
    bob.send("after the outage")
    alice.message_with_text("after the outage")

    assert alice.seqs() == list(range(1, 31))  # every message once, in order
    assert alice.message_texts()[-5:] == [
        "before the outage",
        "during the outage 1",
        "during the outage 2",
        "during the outage 3",
        "after the outage",
    ]
    assert alice.driver.execute_script("return window.__sameDocument") is True  # no reload
