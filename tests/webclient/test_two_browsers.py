"""Two people, two headless Chromium sessions, one real server: everything through the UI.

Set ``IM_WEBCLIENT_SCREENSHOTS=docs/screenshots`` to (re)write the README screenshots.
"""

import os

import pytest

from tests.webclient.pages import ChatPage, css, write_png

pytestmark = pytest.mark.requires_browser

SCREENSHOTS = os.environ.get("IM_WEBCLIENT_SCREENSHOTS")


def test_two_users_befriend_chat_type_read_send_an_image_and_recall(im_server, browser, tmp_path):
    alice = ChatPage(browser(), im_server.base_url).open()
    bob = ChatPage(browser(), im_server.base_url).open()
    alice.screenshot(SCREENSHOTS, "login.png")

    # Both register through the UI (and are logged in with a live socket).
    alice.register("alice", "Alice")
    bob.register("bob", "Bob")

    # Alice finds Bob and asks; Bob sees the request arrive live and accepts it.
    bob_id = alice.add_friend("bob")
    bob.wait(lambda: bob.first(css("tab-notices-badge")) is not None)
    bob.tab("notices")
    pending_request = css("friend-request", '[data-status="1"]')
    alice_id = int(bob.find(pending_request).get_attribute("data-from-user-id"))
    bob.click(f"{pending_request} {css('accept-request')}")
    bob.find(css("friend-request", '[data-status="2"]'))

    # Alice learns of the acceptance live: Bob appears in her friends, online.
    alice.tab("contacts")
    alice.find(css("friend", f'[data-user-id="{bob_id}"] [data-online="1"]'))

    alice.open_friend_chat(bob_id)
    bob.open_friend_chat(alice_id)

    # Bob sees Alice typing, then her message in real time.
    alice.type("Hello Bo")
    indicator = bob.find(css("typing-indicator"))
    bob.wait(lambda: indicator.is_displayed() and "Alice is typing" in indicator.text)
    alice.type("b!")
    alice.click(css("composer-send"))
    alice.message_with_text("Hello Bob!")
    bob.message_with_text("Hello Bob!")

    # Bob is looking at the conversation, so he reads it: Alice sees the receipt.
    def receipt_on_mine() -> bool:
        mine = alice.message_now("Hello Bob!")
        return mine is not None and alice.first(css("read-receipt"), mine) is not None

    alice.wait(receipt_on_mine, message="no read receipt on Alice's message")

    # Bob answers; Alice gets it live.
    bob.send("Hi Alice, welcome!")
    alice.message_with_text("Hi Alice, welcome!")

    # An image: uploaded, sent as an image message, shown to Bob from a blob URL.
    alice.send_file(write_png(tmp_path / "sunset.png"))

    def image_shown(page: ChatPage) -> bool:
        images = page.all(css("message-image"))
        return bool(images) and page.driver.execute_script(
            "const i = arguments[0]; return i.complete && i.naturalWidth === 48 "
            "&& i.src.startsWith('blob:')",
            images[-1],
        )

    bob.wait(lambda: image_shown(bob), message="Bob never saw the image")
    alice.wait(lambda: image_shown(alice))

    # A message Alice regrets: she recalls it and it turns into a notice on Bob's screen.
    oops = alice.send("this was a mistake")
    seq = oops.get_attribute("data-seq")
    bob.message_with_text("this was a mistake")
    bob.screenshot(SCREENSHOTS, "chat.png")
    # Drawn anew when Bob reads it: clicked where it is now, not through ``oops``.
    alice.click(css("message", f'[data-seq="{seq}"] ') + css("recall"))
    recalled = css("message", f'[data-seq="{seq}"][data-status="2"] ') + css("recalled")
    bob.find(recalled)
    alice.find(recalled)
    assert "this was a mistake" not in bob.message_texts()
    assert bob.message_texts() == ["Hello Bob!", "Hi Alice, welcome!"]

    # Bob's conversation list shows Alice with the recalled preview and her presence.
    bob.tab("chats")
    row = css("conversation", f'[data-key="0:{alice_id}"] ')
    bob.wait(lambda: bob.find(row + css("conversation-preview")).text == "[Recalled]")
    bob.wait(lambda: bob.find(row + css("presence")).get_attribute("data-online") == "1")
    bob.screenshot(SCREENSHOTS, "conversations.png")
