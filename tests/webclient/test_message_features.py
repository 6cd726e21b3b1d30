"""The message features of CONTRACT 10 in the web client, two people in two headless Chromium
sessions against one real server: replies (a click on a quote shows the quoted message, older
pages loaded as needed), reactions, edits and forwards seen live by the other browser, `@`
completion with mentions counted in the other's badges, "read by N" with its list of readers, and
muting a conversation, which moves its unread messages to the badge's muted part.

The people, friendships, groups and older messages are made through the REST API; everything the
test looks at is done through the UI.
"""

import os
from dataclasses import dataclass

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from tests.support.server import ServerProcess
from tests.webclient.pages import ChatPage, css

pytestmark = pytest.mark.requires_browser

SCREENSHOTS = os.environ.get("IM_WEBCLIENT_SCREENSHOTS")
PASSWORD = "secret123"
GROUP = 1
PRIVATE = 0


@dataclass
class Person:
    server: ServerProcess
    username: str
    id: int
    token: str

    def call(self, method: str, path: str, body: dict | None = None) -> object:
        _status, answer = self.server.request(method, path, body, self.token)
        assert answer["code"] == 20000, (path, answer)
        return answer["data"]

    def send(self, **body) -> dict:
        return self.call("POST", "/chat/send", {"type": 0, **body})


def person(server: ServerProcess, username: str, nickname: str) -> Person:
    body = {
        "username": username,
        "password": PASSWORD,
        "email": f"{username}@example.com",
        "nickname": nickname,
    }
    assert server.request("POST", "/register", body)[1]["code"] == 20000
    _status, answer = server.request("POST", "/login", {"username": username, "password": PASSWORD})
    token = answer["data"]["access_token"]
    user_id = server.request("GET", "/user/profile", token=token)[1]["data"]["id"]
    return Person(server, username, user_id, token)


def befriend(asking: Person, answering: Person) -> None:
    request = asking.call("POST", "/friend/request/send", {"to_user_id": answering.id})
    handle = {"request_id": request["request_id"], "action": 2}
    answering.call("POST", "/friend/request/handle", handle)


def signed_in(browser, server: ServerProcess, who: Person) -> ChatPage:
    page = ChatPage(browser(), server.base_url).open()
    page.login(who.username, PASSWORD)
    return page


def message_row(seq: int) -> str:
    return css("message", f'[data-seq="{seq}"]')


def hover_action(page: ChatPage, seq: int, action: str) -> None:
    """Hover the message (its actions show only then) and click one of its actions."""
    hover_click(page, message_row(seq), action)


def hover_click(page: ChatPage, row_css: str, action: str) -> None:
    """Hover what ``row_css`` finds and click its ``action`` (drawn anew: found again)."""

    def done() -> bool:
        row = page.first(row_css)
        if row is None:
            return False
        page.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", row)
        ActionChains(page.driver).move_to_element(row).perform()
        button = page.first(css(action), row)
        if button is None or not button.is_displayed():
            return False
        button.click()
        return True

    page.wait(done, message=f"no {action} in {row_css}")


def text_of(page: ChatPage, seq: int) -> str:
    body = page.first(message_row(seq) + " " + css("message-text"))
    return body.text if body is not None else ""


def text_at(page: ChatPage, selector: str) -> str:
    found = page.first(selector)
    return found.text if found is not None else ""


def chip(page: ChatPage, seq: int, emoji: str):
    return page.first(message_row(seq) + " " + css("reaction-chip", f'[data-emoji="{emoji}"]'))


def chip_state(page: ChatPage, seq: int, emoji: str) -> tuple[str, str] | None:
    found = chip(page, seq, emoji)
    if found is None:
        return None
    return found.get_attribute("data-count"), found.get_attribute("data-mine")


def in_view(page: ChatPage, element) -> bool:
    return page.driver.execute_script(
        "const r = arguments[0].getBoundingClientRect();"
        "const list = document.querySelector('[data-testid=message-list]').getBoundingClientRect();"
        "return r.top >= list.top - 1 && r.bottom <= list.bottom + 1;",
        element,
    )


def open_conversation(page: ChatPage, key: str) -> None:
    page.tab("chats")
    page.click(css("conversation", f'[data-key="{key}"]'))
    page.find(css("composer-input"))


def test_reply_react_edit_and_forward_seen_by_the_other_browser(im_server, browser):
    alice = person(im_server, "alice", "Alice")
    bob = person(im_server, "bob", "Bob")
    befriend(alice, bob)
    group_id = alice.call("POST", "/group/create", {"group_name": "Team"})["group_id"]
    alice.call("POST", "/group/invite", {"group_id": group_id, "user_ids": [bob.id]})
    alice.send(group_id=group_id, chat_type=GROUP, content="welcome to the team")
    # An old message, three pages back, and a reply to it sent last.
    first = alice.send(to_user_id=bob.id, chat_type=PRIVATE, content="the very first message")
    for n in range(50):
        alice.send(to_user_id=bob.id, chat_type=PRIVATE, content=f"filler {n}")
    question = alice.send(to_user_id=bob.id, chat_type=PRIVATE, content="question?")
    alice.send(to_user_id=bob.id, chat_type=PRIVATE, content="about that one", reply_to=first["id"])

    a = signed_in(browser, im_server, alice)
    b = signed_in(browser, im_server, bob)
    a.open_friend_chat(bob.id)
    b.open_friend_chat(alice.id)

    # A click on a quote whose message is not loaded yet loads older pages and shows it.
    quote = b.find(css("message-quote", f'[data-quote-seq="{first["seq"]}"]'))
    assert "the very first message" in quote.text
    assert b.first(message_row(first["seq"])) is None
    quote.click()
    shown = b.find(message_row(first["seq"]) + '[data-highlighted="1"]')
    assert in_view(b, shown)

    # Bob replies to the question from its hover action: the quote sits above the composer.
    hover_action(b, question["seq"], "action-reply")
    bar = b.find(css("composer-reply"))
    assert "question?" in bar.text and "Alice" in bar.text
    answer = b.send("the answer")
    answer_seq = int(answer.get_attribute("data-seq"))
    assert b.first(css("composer-reply")) is None
    # Both see the reply with its quote; a click on Alice's side scrolls to the question.
    mine_quote = message_row(answer_seq) + " " + css("message-quote")
    b.wait(lambda: "question?" in b.find(mine_quote).text)
    a.message_with_text("the answer")
    a_quote = a.find(mine_quote)
    assert a_quote.get_attribute("data-quote-seq") == str(question["seq"])
    a.driver.execute_script(
        "document.querySelector('[data-testid=message-list]').scrollTop = 0"
    )  # away from the question
    a.click(mine_quote)
    a.find(message_row(question["seq"]) + '[data-highlighted="1"]')

    # Reactions: Alice reacts from the picker, Bob sees the chip and joins, Alice takes hers back.
    hover_action(a, answer_seq, "action-react")
    a.click(message_row(answer_seq) + " " + css("reaction-option", '[data-emoji="👍"]'))
    a.wait(lambda: chip_state(a, answer_seq, "👍") == ("1", "1"))
    b.wait(lambda: chip_state(b, answer_seq, "👍") == ("1", "0"), message="no reaction push")
    b.click(message_row(answer_seq) + " " + css("reaction-chip", '[data-emoji="👍"]'))
    b.wait(lambda: chip_state(b, answer_seq, "👍") == ("2", "1"))
    a.wait(lambda: chip_state(a, answer_seq, "👍") == ("2", "1"))
    a.click(message_row(answer_seq) + " " + css("reaction-chip", '[data-emoji="👍"]'))
    a.wait(lambda: chip_state(a, answer_seq, "👍") == ("1", "0"))
    b.wait(lambda: chip_state(b, answer_seq, "👍") == ("1", "1"))

    # Alice edits her question in the composer: both see the new text, marked edited, and the
    # quote in Bob's reply follows.
    hover_action(a, question["seq"], "action-edit")
    a.find(css("composer-edit"))
    field = a.find(css("composer-input"))
    assert field.get_attribute("value") == "question?"
    field.send_keys(Keys.BACKSPACE, " (edited)", Keys.ENTER)
    for page in (a, b):
        page.wait(lambda p=page: text_of(p, question["seq"]) == "question (edited)")
        page.find(message_row(question["seq"]) + " " + css("edited"))
        page.wait(lambda p=page: "question (edited)" in p.find(mine_quote).text)
    assert b.first(message_row(question["seq"]) + " " + css("action-edit")) is None
    hover_action(b, answer_seq, "action-react")  # the picker open, for the picture
    b.find(css("reaction-picker"))
    b.screenshot(SCREENSHOTS, "message-features.png")
    b.click(css("reaction-picker") + " " + css("reaction-option", '[data-emoji="🎉"]'))
    a.wait(lambda: chip_state(a, answer_seq, "🎉") == ("1", "0"))

    # User text is text: a reaction and an edit that look like markup are shown as typed.
    markup = "<i>x</i>"
    bob.call("POST", "/chat/message/react", {"message_id": question["id"], "emoji": markup})
    a.wait(lambda: chip_state(a, question["seq"], markup) == ("1", "0"))
    assert markup in chip(a, question["seq"], markup).text
    assert not a.all(message_row(question["seq"]) + " i")

    # Bob forwards the answer into the group; Alice sees it there, marked as forwarded.
    hover_action(b, answer_seq, "action-forward")
    b.click(css("forward-dialog") + " " + css("forward-target", f'[data-key="1:{group_id}"]'))
    b.wait(lambda: b.first(css("forward-dialog")) is None)
    open_conversation(a, f"1:{group_id}")
    forwarded = a.message_with_text("the answer")
    assert a.first(css("forwarded"), forwarded) is not None
    a.wait(lambda: text_at(a, css("tab-chats-badge")) == "")  # she is looking at it


def test_mentions_badges_readers_and_mute(im_server, browser):
    alice = person(im_server, "alice", "Alice")
    bob = person(im_server, "bob", "Bob")
    carol = person(im_server, "carol", "Carol")
    for one, other in ((alice, bob), (alice, carol), (bob, carol)):
        befriend(one, other)
    group_id = alice.call("POST", "/group/create", {"group_name": "Team"})["group_id"]
    alice.call("POST", "/group/invite", {"group_id": group_id, "user_ids": [bob.id, carol.id]})
    alice.send(group_id=group_id, chat_type=GROUP, content="hello team")
    bob.send(to_user_id=alice.id, chat_type=PRIVATE, content="hi Alice")
    group_key = f"1:{group_id}"

    a = signed_in(browser, im_server, alice)
    b = signed_in(browser, im_server, bob)
    # Bob looks at his private chat with Alice, not at the group.
    b.open_friend_chat(alice.id)
    open_conversation(a, group_key)

    # Alice, the owner, is offered @all and the members; typing narrows the list.
    a.type("@")
    options = css("mention-suggestions") + " " + css("mention-option")
    a.wait(
        lambda: (
            {o.get_attribute("data-user-id") for o in a.all(options)}
            == {"all", str(bob.id), str(carol.id)}
        )
    )
    a.screenshot(SCREENSHOTS, "mentions.png")
    a.type("b")
    a.wait(lambda: [o.get_attribute("data-user-id") for o in a.all(options)] == [str(bob.id)])
    a.find(css("composer-input")).send_keys(Keys.ENTER)  # picks Bob
    field = a.find(css("composer-input"))
    a.wait(lambda: field.get_attribute("value") == "@Bob ")
    a.type("please look")
    a.click(css("composer-send"))
    mention = a.message_with_text("@Bob please look")
    mention_seq = int(mention.get_attribute("data-seq"))

    # Bob's list shows the mention and the unread count; the Chats tab the totals.
    row = css("conversation", f'[data-key="{group_key}"] ')
    b.tab("chats")
    b.wait(lambda: text_at(b, row + css("mention-badge")) == "@1")
    b.wait(lambda: b.find(row + css("unread-badge")).text == "2")
    b.wait(lambda: b.find(css("tab-chats-badge")).text == "2")
    b.wait(lambda: text_at(b, css("tab-chats-mentions")) == "@1")
    # Carol (no browser) was not named: the server counts no mention for her.
    assert carol.call("GET", "/chat/unread-count")["mention_count"] == 0

    # Bob, a member, is offered the members but not @all.
    open_conversation(b, group_key)
    b.wait(lambda: b.first(row + css("mention-badge")) is None)
    b.wait(lambda: b.first(css("tab-chats-badge")) is None)
    b.wait(lambda: b.first(css("tab-chats-mentions")) is None)
    b.find(message_row(mention_seq) + '[data-mentions-me="1"]')
    b.type("@")
    b.wait(
        lambda: (
            {o.get_attribute("data-user-id") for o in b.all(options)}
            == {str(alice.id), str(carol.id)}
        )
    )
    b.find(css("composer-input")).send_keys(Keys.ESCAPE)
    b.find(css("composer-input")).clear()

    # Alice mentions everyone: Carol's mention count moves on the server.
    a.type("@al")
    a.wait(lambda: [o.get_attribute("data-user-id") for o in a.all(options)] == ["all"])
    a.click(options)
    a.type("meeting at noon")
    a.click(css("composer-send"))
    a.message_with_text("@all meeting at noon")
    assert carol.call("GET", "/chat/unread-count")["mention_count"] == 1

    # Read by N: Bob has read Alice's messages, Carol has not; opening the list counts again.
    read_by = message_row(mention_seq) + " " + css("read-by")
    a.click(read_by)
    dialog = a.find(css("readers-dialog"))
    readers = {
        r.get_attribute("data-user-id"): r.get_attribute("data-read")
        for r in dialog.find_elements("css selector", css("reader"))
    }
    assert readers == {str(bob.id): "1", str(carol.id): "0"}
    assert "Bob" in dialog.text and "Carol" in dialog.text
    a.screenshot(SCREENSHOTS, "readers.png")
    a.click(css("readers-dialog") + " " + css("dialog-close"))
    a.wait(lambda: a.find(read_by).get_attribute("data-count") == "1")
    assert a.find(read_by).text == "Read by 1"

    # Bob mutes the group and looks at his private chat: what Alice writes there now counts in
    # the badge's muted part, not the main one.
    b.open_friend_chat(alice.id)
    b.tab("chats")
    hover_click(b, row.strip(), "conversation-mute")
    b.find(row.strip() + '[data-muted="1"]')
    listed = {(c["type"], c["target_id"]): c for c in bob.call("GET", "/chat/conversation/list")}
    assert listed[(GROUP, group_id)]["is_muted"] is True
    a.send("a quiet one")
    b.wait(lambda: b.find(row + css("unread-badge")).text == "1")
    assert "quiet" in b.find(row + css("unread-badge")).get_attribute("class")
    b.wait(lambda: b.find(css("tab-chats-muted")).text == "1")
    assert b.first(css("tab-chats-badge")) is None
    b.screenshot(SCREENSHOTS, "muted.png")
    assert bob.call("GET", "/chat/unread-count") == {
        "unread_count": 0,
        "muted_unread_count": 1,
        "mention_count": 0,
    }
    # Unmuted, the same message counts in the main part again.
    hover_click(b, row.strip(), "conversation-mute")
    b.find(row.strip() + '[data-muted="0"]')
    b.wait(lambda: b.find(css("tab-chats-badge")).text == "1")
    assert b.first(css("tab-chats-muted")) is None
