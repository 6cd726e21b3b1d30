"""Message search (CONTRACT 11) in the web client, in headless Chromium against a real server: a
Chinese word is found in every conversation, each result names its conversation and sender, and a
click opens the conversation at that message, pages of history away from the latest, marked and in
view, with older and newer pages loaded by scrolling; a search limited to the open conversation;
results paged with "Load more"; a text that looks like markup shown as text.

People, friendships, groups and messages are made through the REST API; everything the test looks
at is done through the UI.
"""

import os

import pytest

from tests.webclient.pages import ChatPage, css
from tests.webclient.test_message_features import (
    GROUP,
    PRIVATE,
    befriend,
    in_view,
    message_row,
    person,
    signed_in,
)

pytestmark = pytest.mark.requires_browser

SCREENSHOTS = os.environ.get("IM_WEBCLIENT_SCREENSHOTS")
HIT = css("message-hit")
LIST = "document.querySelector('[data-testid=message-list]')"


def search(page: ChatPage, keyword: str) -> None:
    page.tab("chats")
    page.fill("message-search-input", keyword)
    page.click(css("message-search-submit"))
    page.wait(
        lambda: (
            page.first(css("message-search-status")) is not None
            and "Searching" not in page.find(css("message-search-status")).text
        ),
        message="the search did not answer",
    )


def hits(page: ChatPage) -> list[tuple[str, int]]:
    """The results shown, as (conversation key, seq), in their order."""
    return [
        (el.get_attribute("data-key"), int(el.get_attribute("data-seq"))) for el in page.all(HIT)
    ]


def hit(page: ChatPage, key: str, seq: int) -> str:
    return css("message-hit", f'[data-key="{key}"][data-seq="{seq}"]')


def part(page: ChatPage, hit_css: str, name: str) -> str:
    return page.find(f"{hit_css} {css(name)}").text


def loaded_seqs(page: ChatPage) -> set[int]:
    return set(page.seqs())


def scroll_list(page: ChatPage, where: str) -> None:
    page.driver.execute_script(
        f"const l = {LIST}; l.scrollTop = {'0' if where == 'top' else 'l.scrollHeight'};"
    )


def test_search_everywhere_and_open_a_result_far_back(im_server, browser):
    alice = person(im_server, "alice", "Alice")
    bob = person(im_server, "bob", "Bob")
    carol = person(im_server, "carol", "Carol")
    befriend(alice, bob)
    group_id = alice.call("POST", "/group/create", {"group_name": "登山队"})["group_id"]
    alice.call("POST", "/group/invite", {"group_id": group_id, "user_ids": [bob.id, carol.id]})
    # Alice writes to Bob: 30 messages, the one to find, then 120 more (six pages after it).
    for n in range(30):
        alice.send(to_user_id=bob.id, chat_type=PRIVATE, content=f"早些的消息 {n}")
    target = alice.send(to_user_id=bob.id, chat_type=PRIVATE, content="我们明天去爬山吧 早上八点")
    for n in range(120):
        alice.send(to_user_id=bob.id, chat_type=PRIVATE, content=f"后来的消息 {n}")
    in_group = carol.send(group_id=group_id, chat_type=GROUP, content="上次爬山的照片发群里了")
    carol.send(group_id=group_id, chat_type=GROUP, content="大家好")
    private_key, group_key = f"{PRIVATE}:{alice.id}", f"{GROUP}:{group_id}"

    b = signed_in(browser, im_server, bob)
    search(b, "爬山")
    # Newest first; each result names its conversation and sender; the term is marked.
    assert hits(b) == [(group_key, in_group["seq"]), (private_key, target["seq"])]
    group_hit, private_hit = hit(b, group_key, in_group["seq"]), hit(b, private_key, target["seq"])
    assert part(b, group_hit, "message-hit-conversation").startswith("登山队")
    assert part(b, group_hit, "message-hit-sender") == "Carol"
    assert part(b, private_hit, "message-hit-conversation") == "Alice"
    assert part(b, private_hit, "message-hit-sender") == "Alice"
    assert part(b, private_hit, "message-hit-text") == "我们明天去爬山吧 早上八点"
    marks = b.all(f"{private_hit} {css('message-hit-text')} mark")
    assert [m.text for m in marks] == ["爬山"]
    assert b.first(css("conversation-list")).is_displayed() is False
    b.screenshot(SCREENSHOTS, "search-results.png")

    # A click opens the private chat at the message, 120 messages back: marked and in view, the
    # latest messages not loaded yet.
    b.click(private_hit)
    b.wait(lambda: b.find(css("chat-title")).text == "Alice")
    shown = b.find(message_row(target["seq"]) + '[data-highlighted="1"]')
    assert in_view(b, shown)
    assert target["seq"] + 120 not in loaded_seqs(b)
    b.find(css("newer-marker"))
    b.screenshot(SCREENSHOTS, "search-opened.png")

    # Scrolling up loads the older page, scrolling down the newer ones.
    lowest = min(loaded_seqs(b))
    assert lowest > 1
    scroll_list(b, "top")
    b.wait(lambda: min(loaded_seqs(b)) < lowest, message="no older page")
    highest = max(loaded_seqs(b))
    scroll_list(b, "bottom")
    b.wait(lambda: max(loaded_seqs(b)) > highest, message="no newer page")
    assert sorted(loaded_seqs(b)) == list(range(min(loaded_seqs(b)), max(loaded_seqs(b)) + 1))

    # A message pushed now waits for the scroll; one Bob sends takes him to the latest messages.
    alice.send(to_user_id=bob.id, chat_type=PRIVATE, content="还在吗")
    b.send("在的")
    b.wait(lambda: b.first(css("newer-marker")) is None)
    assert in_view(b, b.message_with_text("在的"))
    seqs = sorted(loaded_seqs(b))
    assert seqs[-1] == target["seq"] + 122 and seqs == list(range(seqs[0], seqs[-1] + 1))
    b.message_with_text("还在吗")
    # From here on the conversation is live again.
    alice.send(to_user_id=bob.id, chat_type=PRIVATE, content="好的")
    b.message_with_text("好的")

    # A common word: 20 results a page, "Load more" brings the older ones.
    search(b, "消息")
    b.wait(lambda: len(hits(b)) == 20)
    first_page = hits(b)
    b.click(css("message-search-more"))
    b.wait(lambda: len(hits(b)) == 40)
    assert hits(b)[:20] == first_page
    seqs = [seq for _key, seq in hits(b)]
    assert seqs == sorted(seqs, reverse=True) and len(set(seqs)) == 40

    # Closing the search shows the conversation list again.
    b.click(css("message-search-close"))
    b.find(css("conversation-list"))
    b.wait(lambda: b.find(css("conversation-list")).is_displayed())
    assert b.first(HIT) is None


def test_search_one_conversation_and_markup_stays_text(im_server, browser):
    alice = person(im_server, "alice", "Alice")
    bob = person(im_server, "bob", "Bob")
    befriend(alice, bob)
    group_id = alice.call("POST", "/group/create", {"group_name": "Team"})["group_id"]
    alice.call("POST", "/group/invite", {"group_id": group_id, "user_ids": [bob.id]})
    markup = "<b>晚饭</b><img src=x onerror=\"document.title='pwned'\">"
    in_group = alice.send(group_id=group_id, chat_type=GROUP, content=markup)
    in_private = alice.send(to_user_id=bob.id, chat_type=PRIVATE, content="晚饭吃什么")
    bob.send(to_user_id=alice.id, chat_type=PRIVATE, content="随便")
    private_key, group_key = f"{PRIVATE}:{alice.id}", f"{GROUP}:{group_id}"

    b = signed_in(browser, im_server, bob)
    b.open_friend_chat(alice.id)
    # The search button of the open conversation limits the search to it.
    b.click(css("chat-search"))
    scope = b.find(css("message-search-scope"))
    assert scope.is_selected()
    assert b.find(css("message-search-scope-name")).text == "Alice"
    search(b, "晚饭")
    assert hits(b) == [(private_key, in_private["seq"])]
    assert b.find(css("message-search-status")).text == "1 message found"

    # Unticked: every conversation, the markup shown as the text it is.
    b.click(css("message-search-scope"))
    b.wait(lambda: len(hits(b)) == 2)
    assert hits(b) == [(private_key, in_private["seq"]), (group_key, in_group["seq"])]
    group_hit = hit(b, group_key, in_group["seq"])
    assert part(b, group_hit, "message-hit-text") == markup
    assert [m.text for m in b.all(f"{group_hit} mark")] == ["晚饭"]
    assert not b.all(f"{group_hit} b") and not b.all(f"{group_hit} img")
    assert b.driver.title != "pwned"

    # Opened from the result, the group shows the message as text too (the last one: no paging).
    b.click(group_hit)
    b.wait(lambda: b.find(css("chat-title")).text == "Team")
    shown = b.find(message_row(in_group["seq"]) + '[data-highlighted="1"]')
    assert b.first(css("message-text"), shown).text == markup
    assert b.first(css("newer-marker")) is None

    # A word nothing contains.
    search(b, "不存在的词")
    assert b.find(css("message-search-status")).text == "No messages found"
    assert b.first(HIT) is None
