"""Drive the web client like a person would: one ``ChatPage`` per browser (per user)."""

import struct
import zlib
from pathlib import Path

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

WAIT_S = 15


def css(name: str, extra: str = "") -> str:
    return f'[data-testid="{name}"]{extra}'


class ChatPage:
    def __init__(self, driver, base_url: str) -> None:
        self.driver = driver
        self.base_url = base_url

    # --- waiting and finding ----------------------------------------------------------------
    def wait(self, condition, timeout: float = WAIT_S, message: str = ""):
        return WebDriverWait(
            self.driver, timeout, ignored_exceptions=(StaleElementReferenceException,)
        ).until(lambda _driver: condition(), message)

    def find(self, css: str, within: WebElement | None = None) -> WebElement:
        return self.wait(lambda: self.first(css, within), message=f"no {css}")

    def first(self, css: str, within: WebElement | None = None) -> WebElement | None:
        found = (within or self.driver).find_elements(By.CSS_SELECTOR, css)
        return found[0] if found else None

    def all(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def click(self, css: str) -> None:
        """Click what ``css`` finds now; found again if it is redrawn in between."""

        def clicked() -> bool:
            element = self.first(css)
            if element is None:
                return False
            element.click()  # a stale element raises, and the wait tries again
            return True

        self.wait(clicked, message=f"nothing to click at {css}")

    # --- screens ----------------------------------------------------------------------------
    def open(self) -> "ChatPage":
        self.driver.get(self.base_url + "/")
        self.find(css("auth") + "," + css("main"))
        return self

    def register(self, username: str, nickname: str, password: str = "secret123") -> None:
        self.click(css("auth-switch"))
        self.find(css("register-form"))
        self.fill("auth-username", username)
        self.fill("auth-password", password)
        self.fill("auth-email", f"{username}@example.com")
        self.fill("auth-nickname", nickname)
        self.click(css("auth-submit"))
        self.wait_connected()
        assert self.find(css("me-name")).text == nickname

    def login(self, username: str, password: str = "secret123") -> None:
        self.fill("auth-username", username)
        self.fill("auth-password", password)
        self.click(css("auth-submit"))
        self.wait_connected()

    def fill(self, name: str, text: str) -> None:
        field = self.find(css(name))
        field.clear()
        field.send_keys(text)

    def connection_state(self) -> str:
        return self.find(css("connection-state")).get_attribute("data-state")

    def wait_connected(self) -> None:
        self.wait(lambda: self.connection_state() == "open", message="socket not open")

    def tab(self, name: str) -> None:
        self.click(css(f"tab-{name}"))

    # --- people -----------------------------------------------------------------------------
    def search(self, keyword: str) -> None:
        self.tab("contacts")
        self.fill("search-input", keyword)
        self.click(css("search-submit"))

    def add_friend(self, username: str) -> int:
        self.search(username)
        row = css("search-user", f'[data-username="{username}"]')
        user_id = int(self.find(row).get_attribute("data-user-id"))
        self.click(f"{row} {css('add-friend')}")
        self.wait(lambda: "Friend request sent" in self.find(css("toast")).text)
        return user_id

    def open_friend_chat(self, user_id: int) -> None:
        self.tab("contacts")
        # The friend list is redrawn on presence changes: clicked where the row is now.
        self.click(css("friend", f'[data-user-id="{user_id}"] ') + css("friend-chat"))
        self.find(css("composer-input"))

    # --- chat -------------------------------------------------------------------------------
    def messages(self) -> list[WebElement]:
        return self.all(css("message"))

    def message_texts(self) -> list[str]:
        return [
            el.text
            for el in self.all(css("message") + " " + css("message-text"))
            if el.is_displayed()
        ]

    def seqs(self) -> list[int]:
        return [int(el.get_attribute("data-seq")) for el in self.messages()]

    def message_with_text(self, text: str) -> WebElement:
        return self.wait(lambda: self.message_now(text), message=f"no message {text!r}")

    def message_now(self, text: str) -> WebElement | None:
        """The message showing ``text`` as it is drawn now (a message whose flags change, e.g.
        when it is read, is drawn anew: an element found earlier goes stale)."""
        for el in self.messages():
            body = self.first(css("message-text"), el)
            if body is not None and body.text == text:
                return el
        return None

    def type(self, text: str) -> None:
        self.find(css("composer-input")).send_keys(text)

    def send(self, text: str) -> WebElement:
        field = self.find(css("composer-input"))
        field.send_keys(text)
        self.click(css("composer-send"))
        return self.message_with_text(text)

    def send_file(self, path: Path) -> None:
        self.find(css("composer-file")).send_keys(str(path))

    def screenshot(self, directory: str | None, name: str) -> None:
        if directory:
            Path(directory).mkdir(parents=True, exist_ok=True)
            self.driver.save_screenshot(str(Path(directory) / name))


def write_png(path: Path, width: int = 48, height: int = 32) -> Path:
    """A small real PNG (a colour gradient), written without any imaging library."""
    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 5 % 256, y * 8 % 256, 160)) for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return path
